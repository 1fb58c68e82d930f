import { open, stat } from 'node:fs/promises';
import { fromJsonString } from '@bufbuild/protobuf';
import { PredictionLoggedSchema } from '@scoregate/contracts';
import type { Logger } from '@scoregate/telemetry';
import { predictionInput, type PredictionInput } from './join-inputs.js';
import type { LabeledExampleStore } from './labeled-example-store.js';

export interface PredictionFileFollowerOptions {
  /** The gateway's prediction log in embedded mode (GATEWAY_PREDICTION_FILE), JSON lines. */
  readonly file: string;
  readonly store: LabeledExampleStore;
  readonly logger: Logger;
  /** How often the file is checked for new lines (ms). */
  readonly pollMs: number;
  /** Lines applied per transaction. */
  readonly batchLines?: number;
}

export interface PredictionFileFollower {
  /** Reads what the file has now (also called by the timer); resolves when it is applied. */
  poll(): Promise<void>;
  stop(): Promise<void>;
}

/** Bytes read at a time. */
const CHUNK_BYTES = 1 << 20;

/**
 * Feeds the join from the gateway's prediction file when there is no Kafka (`npm start`): reads
 * the complete lines appended since the last position and applies them with the new byte
 * position in one transaction, so a killed process resumes exactly where its last transaction
 * ended. A line that is not a PredictionLogged is logged and skipped; a file that got shorter
 * (replaced or truncated) is read again from its start (duplicates are recognised by the join).
 */
export function followPredictionFile(
  options: PredictionFileFollowerOptions,
): PredictionFileFollower {
  const { file, logger } = options;
  let running: Promise<void> | undefined;
  let stopped = false;

  function poll(): Promise<void> {
    running ??= readNew(options, () => stopped)
      .catch((error: unknown) =>
        logger.error(
          { err: error, file },
          `reading the prediction file failed: ${(error as Error).message}`,
        ),
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  const timer = setInterval(() => void poll(), options.pollMs);
  timer.unref();
  return {
    poll,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** Applies the complete lines appended since the stored position. */
async function readNew(
  options: PredictionFileFollowerOptions,
  stopped: () => boolean,
): Promise<void> {
  const { file, store, logger } = options;
  const stream = `file:${file}`;
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  let position = Number(store.position(stream) ?? 0n);
  if (size < position) {
    logger.warn(
      { file, size, position },
      `${file} is shorter than where it was read up to (${size} < ${position} bytes): replaced or truncated, reading it again from its start`,
    );
    position = 0;
    store.apply({}, [{ stream, next: 0n }]);
  }
  if (size === position) return;
  await readLines(file, position, size, options.batchLines ?? 1000, stopped, (lines, end) => {
    const predictions: PredictionInput[] = [];
    for (const line of lines) {
      const event = parseLine(line);
      if (event !== undefined) predictions.push(event);
      else if (line.trim() !== '')
        logger.warn(
          { file, line: line.slice(0, 200) },
          `skipped a line of ${file} that is not a PredictionLogged`,
        );
    }
    store.apply({ predictions }, [{ stream, next: BigInt(end) }]);
  });
}

/**
 * Reads the complete lines of `file` between `from` and `to` (bytes), handing them over in
 * groups of `batchLines` with the byte position after the group's last line. A partial last line
 * is left for the next read.
 */
async function readLines(
  file: string,
  from: number,
  to: number,
  batchLines: number,
  stopped: () => boolean,
  onLines: (lines: string[], end: number) => void,
): Promise<void> {
  const handle = await open(file, 'r');
  try {
    let position = from;
    let carry = Buffer.alloc(0);
    let lines: string[] = [];
    let end = from;
    while (position < to && !stopped()) {
      const buffer = Buffer.alloc(Math.min(CHUNK_BYTES, to - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      const text = Buffer.concat([carry, buffer.subarray(0, bytesRead)]);
      const textStart = position - carry.length;
      position += bytesRead;
      let lineStart = 0;
      for (let nl = text.indexOf(10); nl !== -1; nl = text.indexOf(10, lineStart)) {
        lines.push(text.toString('utf8', lineStart, nl));
        lineStart = nl + 1;
        end = textStart + lineStart;
        if (lines.length >= batchLines) {
          onLines(lines, end);
          lines = [];
        }
      }
      carry = text.subarray(lineStart);
    }
    if (lines.length > 0) onLines(lines, end);
  } finally {
    await handle.close();
  }
}

function parseLine(line: string): PredictionInput | undefined {
  if (line.trim() === '') return undefined;
  try {
    const event = fromJsonString(PredictionLoggedSchema, line);
    return event.requestId === '' ? undefined : predictionInput(event);
  } catch {
    return undefined;
  }
}
