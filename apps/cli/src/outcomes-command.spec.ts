import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '@scoregate/stack';
import { importOutcomes, outcomesStatus } from './outcomes-command.js';
import type { CommandIo } from './registry-io.js';

// A real retrain-service process (the built dist) on a free port, with a data folder of its own.
let retrain: RunningService | undefined;
let dir: string;

function capture(): CommandIo & { lines: string[]; errors: string[]; drawn: () => string } {
  const lines: string[] = [];
  const errors: string[] = [];
  const progress = new PassThrough();
  const drawn: Buffer[] = [];
  progress.on('data', (d: Buffer) => drawn.push(d));
  return {
    lines,
    errors,
    out: (line) => lines.push(line),
    err: (line) => errors.push(line),
    progress,
    drawn: () => Buffer.concat(drawn).toString(),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cli-outcomes-'));
  retrain = await startService({
    name: 'retrain-service',
    port: 0,
    env: { RETRAIN_DATA_DIR: path.join(dir, 'retrain'), LOG_LEVEL: 'warn' },
  });
});
afterAll(async () => {
  await retrain?.stop();
  await rm(dir, { recursive: true, force: true });
});

const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();

describe('scoregate outcomes import', () => {
  it('sends a CSV file in batches with a progress bar; a second import records nothing new', async () => {
    const rows = Array.from(
      { length: 2_500 },
      (_, i) => `csv-${i},${i % 2},${iso(now - i * 1000)},${i % 3},site,s-${i}`,
    );
    const file = path.join(dir, 'labels.csv');
    await writeFile(
      file,
      `request_id,label,observed_at,batch_index,entity_type,entity_key\n${rows.join('\n')}\n`,
    );
    const io = capture();
    const options = { file, retrain: retrain!.address, source: 'cli-spec', forceProgress: true };
    expect(await importOutcomes(options, io)).toBe(0);
    expect(io.lines).toEqual([
      '2500 outcomes: 2500 recorded, 0 already recorded, 0 with another label than the one recorded (kept the first), 0 joined with their prediction now',
    ]);
    expect(io.drawn()).toContain('100% |');
    expect(io.drawn()).toContain('2500 outcomes');

    const again = capture();
    expect(await importOutcomes(options, again)).toBe(0);
    expect(again.lines[0]).toMatch(/^2500 outcomes: 0 recorded, 2500 already recorded/);

    const status = capture();
    expect(await outcomesStatus(retrain!.address, status)).toBe(0);
    expect(status.lines.join('\n')).toMatch(/outcomes\s+2500 /);
    expect(status.lines.join('\n')).toMatch(/waiting outcomes\s+2500 /);
    expect(status.lines.join('\n')).toMatch(/duplicates\s+2500 /);
  });

  it('sends JSON lines of OutcomeObserved', async () => {
    const file = path.join(dir, 'labels.jsonl');
    const lines = [0, 1, 2].map((i) =>
      JSON.stringify({ requestId: `json-${i}`, label: 1, observedAt: iso(now), batchIndex: i }),
    );
    await writeFile(file, lines.join('\n') + '\n');
    const io = capture();
    expect(await importOutcomes({ file, retrain: retrain!.address }, io)).toBe(0);
    expect(io.lines[0]).toMatch(/^3 outcomes: 3 recorded/);
  });

  it.each([
    [
      'bad-label.csv',
      'request_id,label,observed_at\nok-1,1,2026-12-08T10:00:00Z\nbad,yes,2026-12-08T10:00:00Z\n',
      'line 3: label: not a number: "yes"',
    ],
    [
      'bad-time.csv',
      'request_id,label,observed_at\nbad,1,yesterday\n',
      'line 2: observed_at: not a time',
    ],
    [
      'bad-column.csv',
      'request_id,label,observed_at,colour\nx,1,2026-12-08T10:00:00Z,red\n',
      'unknown column(s) colour',
    ],
    [
      'bad.jsonl',
      '{"requestId":"a","label":1}\nnot json\n',
      'line 2: not an OutcomeObserved in JSON',
    ],
  ])('names the line of a bad file (%s) and exits 2', async (name, text, message) => {
    const file = path.join(dir, name);
    await writeFile(file, text);
    const io = capture();
    expect(await importOutcomes({ file, retrain: retrain!.address }, io)).toBe(2);
    expect(io.errors.join('\n')).toContain(message);
    expect(io.errors.join('\n')).toContain('fix it and run the import again');
  });

  it('names the line the service refused (an outcome stamped ahead of its clock)', async () => {
    const file = path.join(dir, 'future.csv');
    await writeFile(
      file,
      `request_id,label,observed_at,source\nf-1,1,${iso(now)},x\nf-2,1,${iso(now + 3_600_000)},fast-clock\n`,
    );
    const io = capture();
    expect(await importOutcomes({ file, retrain: retrain!.address }, io)).toBe(2);
    expect(io.errors[0]).toMatch(
      /^error: line 3: observed_at: is (59 min \d+ s|1 h 0 min) ahead of the retrain-service's clock .*source "fast-clock"/,
    );
  });
});
