import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { create, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { durationMs, timestampFromMs } from '@bufbuild/protobuf/wkt';
import { SingleBar } from 'cli-progress';
import { parse } from 'csv-parse';
import { OutcomeObservedSchema, RetrainService, type OutcomeObserved } from '@scoregate/contracts';
import { Code, createRpcClient, RpcError } from '@scoregate/rpc';
import { CommandInputError, type CommandIo } from './registry-io.js';
import { tlsTo } from './tls.js';

export const DEFAULT_RETRAIN_ADDRESS = '127.0.0.1:50055';
/** Outcomes per RecordOutcomes call (the service takes up to 10,000). */
const BATCH = 1_000;

export interface ImportOutcomesOptions {
  readonly file: string;
  readonly retrain: string;
  /** `csv` or `jsonl`; from the file's extension when not given. */
  readonly format?: string;
  /** The `source` of outcomes that name none (lineage, clock-skew metrics). */
  readonly source?: string;
  /** Draw the progress bar even when the stream is not a terminal (tests). */
  readonly forceProgress?: boolean;
}

/** One line of the file, as an outcome, with where it came from. */
interface Line {
  readonly number: number;
  readonly outcome: OutcomeObserved;
}

/**
 * `scoregate outcomes import FILE`: sends the outcomes of a CSV file (header `request_id,label,
 * observed_at` and optionally `batch_index,entity_type,entity_key,scorer,source`) or a JSON-lines
 * file (OutcomeObserved canonical JSON) with RecordOutcomes, 1,000 per call, drawing a progress
 * bar. Idempotent: importing the same file twice records nothing new (the second time every
 * outcome counts as a duplicate). A bad line stops the import and names the line; the lines
 * before it are recorded, so fix it and run again.
 */
export async function importOutcomes(
  options: ImportOutcomesOptions,
  io: CommandIo,
): Promise<number> {
  const format = options.format ?? (/\.csv$/i.test(options.file) ? 'csv' : 'jsonl');
  if (format !== 'csv' && format !== 'jsonl') {
    io.err(`error: --format must be csv or jsonl, got ${JSON.stringify(format)}`);
    return 2;
  }
  let size: number;
  try {
    size = (await stat(options.file)).size;
  } catch (error) {
    io.err(`error: cannot read ${options.file}: ${(error as Error).message}`);
    return 2;
  }
  const client = createRpcClient(RetrainService, {
    address: options.retrain,
    ...tlsTo('retrain-service'),
    defaultTimeoutMs: 60_000,
  });
  const bar = progressBar(io, options.forceProgress);
  const totals = { lines: 0, recorded: 0, duplicates: 0, conflicts: 0, joined: 0 };
  const stream = createReadStream(options.file);
  bar.start(size, 0, { outcomes: 0 });
  try {
    let batch: Line[] = [];
    const send = async () => {
      await record(client, batch, totals);
      batch = [];
      bar.update(stream.bytesRead, { outcomes: totals.lines });
    };
    const lines =
      format === 'csv' ? csvLines(stream, options.source) : jsonLines(stream, options.source);
    for await (const line of lines) {
      batch.push(line);
      totals.lines++;
      if (batch.length >= BATCH) await send();
    }
    if (batch.length > 0) await send();
    bar.update(size, { outcomes: totals.lines });
    bar.stop();
  } catch (error) {
    bar.stop();
    stream.destroy();
    client.close();
    return reportFailure(error, totals, io);
  }
  client.close();
  io.out(
    `${totals.lines} outcomes: ${totals.recorded} recorded, ${totals.duplicates} already recorded, ${totals.conflicts} with another label than the one recorded (kept the first), ${totals.joined} joined with their prediction now`,
  );
  return 0;
}

function progressBar(io: CommandIo, forceProgress = false): SingleBar {
  return new SingleBar({
    stream: io.progress,
    format: `importing outcomes [{bar}] {percentage}% | {value}/{total} bytes | {outcomes} outcomes`,
    hideCursor: false,
    noTTYOutput: forceProgress,
    notTTYSchedule: 100,
    clearOnComplete: false,
  });
}

async function record(
  client: ReturnType<typeof createRpcClient<typeof RetrainService>>,
  batch: readonly Line[],
  totals: { recorded: number; duplicates: number; conflicts: number; joined: number },
): Promise<void> {
  try {
    const reply = await client.recordOutcomes({ outcomes: batch.map((l) => l.outcome) });
    totals.recorded += reply.recorded;
    totals.duplicates += reply.duplicates;
    totals.conflicts += reply.conflicts;
    totals.joined += reply.joined;
  } catch (error) {
    const rpcError = RpcError.from(error);
    const field = rpcError.violations[0]?.field ?? '';
    const index = /^outcomes\[(\d+)\]\.(.*)$/.exec(field);
    if (rpcError.code === Code.INVALID_ARGUMENT && index) {
      const line = batch[Number(index[1])]!;
      throw new CommandInputError(
        `line ${line.number}: ${index[2]}: ${rpcError.violations[0]!.description}`,
      );
    }
    throw rpcError;
  }
}

function reportFailure(
  error: unknown,
  totals: { lines: number; recorded: number },
  io: CommandIo,
): number {
  const before = `the outcomes before it are recorded (${totals.recorded} new); fix it and run the import again: what is recorded counts as a duplicate, never twice`;
  if (error instanceof CommandInputError) {
    io.err(`error: ${error.message}\n${before}`);
    return 2;
  }
  const rpcError = RpcError.from(error);
  io.err(`error: ${Code[rpcError.code]} ${rpcError.message}\n${before}`);
  return 1;
}

/** JSON lines: each an OutcomeObserved in canonical JSON (`requestId` or `request_id`, …). */
async function* jsonLines(input: NodeJS.ReadableStream, source?: string): AsyncGenerator<Line> {
  let number = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    number++;
    if (text.trim() === '') continue;
    let outcome: OutcomeObserved;
    try {
      outcome = fromJson(OutcomeObservedSchema, JSON.parse(text) as JsonValue);
    } catch (error) {
      throw new CommandInputError(
        `line ${number}: not an OutcomeObserved in JSON: ${(error as Error).message}`,
      );
    }
    if (outcome.source === '' && source) outcome.source = source;
    yield { number, outcome };
  }
}

const CSV_COLUMNS = [
  'request_id',
  'label',
  'observed_at',
  'batch_index',
  'entity_type',
  'entity_key',
  'scorer',
  'source',
];

/** CSV with a header naming the columns (any order; request_id, label and observed_at required). */
async function* csvLines(input: NodeJS.ReadableStream, source?: string): AsyncGenerator<Line> {
  const parser = input.pipe(
    parse({ columns: true, skip_empty_lines: true, trim: true, info: true }),
  );
  for await (const { record, info } of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number };
  }>) {
    const number = info.lines;
    const unknown = Object.keys(record).filter((c) => !CSV_COLUMNS.includes(c));
    if (unknown.length > 0)
      throw new CommandInputError(
        `line 1: unknown column(s) ${unknown.join(', ')}; the columns are ${CSV_COLUMNS.join(', ')}`,
      );
    for (const column of ['request_id', 'label', 'observed_at'])
      if (!(column in record))
        throw new CommandInputError(`line 1: the header has no ${column} column`);
    const label = Number(record['label']);
    if (record['label'] === '' || Number.isNaN(label))
      throw new CommandInputError(
        `line ${number}: label: not a number: ${JSON.stringify(record['label'])}`,
      );
    const observedAtMs = parseTime(record['observed_at']!);
    if (observedAtMs === undefined)
      throw new CommandInputError(
        `line ${number}: observed_at: not a time (RFC 3339 such as 2026-12-08T10:00:00Z, or epoch milliseconds): ${JSON.stringify(record['observed_at'])}`,
      );
    const batchIndex = Number(record['batch_index'] || 0);
    if (!Number.isInteger(batchIndex) || batchIndex < 0)
      throw new CommandInputError(
        `line ${number}: batch_index: not an integer >= 0: ${JSON.stringify(record['batch_index'])}`,
      );
    yield {
      number,
      outcome: create(OutcomeObservedSchema, {
        requestId: record['request_id'],
        label,
        observedAt: timestampFromMs(observedAtMs),
        batchIndex,
        scorer: record['scorer'] ?? '',
        source: record['source'] || source || '',
        ...(record['entity_type'] || record['entity_key']
          ? {
              entityKey: {
                entityType: record['entity_type'] ?? '',
                key: record['entity_key'] ?? '',
              },
            }
          : {}),
      }),
    };
  }
}

function parseTime(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `scoregate outcomes status`: the join's counts as a table. */
export async function outcomesStatus(retrain: string, io: CommandIo): Promise<number> {
  const client = createRpcClient(RetrainService, {
    address: retrain,
    ...tlsTo('retrain-service'),
    defaultTimeoutMs: 10_000,
  });
  try {
    const status = await client.getJoinStatus({});
    const c = status.counts;
    const rows: [string, bigint | undefined, string][] = [
      ['predictions', c?.predictions, 'served predictions received'],
      ['shadow predictions', c?.shadowPredictions, 'shadow scorings received (kept apart)'],
      ['outcomes', c?.outcomes, 'outcomes received'],
      ['labelled examples', c?.labeledExamples, 'served predictions joined with their outcome'],
      ['shadow labelled', c?.shadowLabeledExamples, 'shadow predictions joined'],
      ['waiting predictions', c?.pendingPredictions, 'no outcome yet'],
      ['waiting outcomes', c?.pendingOutcomes, 'no prediction yet'],
      ['expired predictions', c?.expiredPredictions, 'no outcome within the join window'],
      ['expired outcomes', c?.expiredOutcomes, 'no prediction within the join window'],
      [
        'duplicates',
        (c?.duplicatePredictions ?? 0n) + (c?.duplicateOutcomes ?? 0n),
        'received again, counted once',
      ],
      ['conflicts', c?.conflictingOutcomes, 'a second label for an item: the first is kept'],
    ];
    const hours = status.joinWindow ? durationMs(status.joinWindow) / 3_600_000 : 0;
    io.out(`store ${status.store}, join window ${hours} h`);
    for (const [name, value, meaning] of rows)
      io.out(`${name.padEnd(20)} ${String(value ?? 0n).padStart(10)}  ${meaning}`);
    return 0;
  } catch (error) {
    const rpcError = RpcError.from(error);
    io.err(`error: ${Code[rpcError.code]} ${rpcError.message}`);
    return 1;
  } finally {
    client.close();
  }
}
