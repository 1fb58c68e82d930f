import type { OnnxModel } from '@scoregate/inference';
import type { Tensor, TensorData, TensorMetadata } from '@scoregate/inference-protocol';

type Feeds = Readonly<Record<string, Tensor>>;
type Results = Record<string, Tensor>;

export interface MicroBatcherOptions {
  /** Coalesce concurrent calls into one run. Off: every call runs on its own, in arrival order. */
  readonly enabled: boolean;
  /** Most rows (dim 0) one coalesced run may hold. */
  readonly maxBatchRows: number;
}

/** Runs a model, coalescing calls that arrive while a run is in flight. */
export interface MicroBatcher {
  run(feeds: Feeds): Promise<Results>;
}

interface Pending {
  readonly feeds: Feeds;
  readonly rows: number;
  /** Shapes without dim 0: only calls with equal keys can be concatenated. */
  readonly key: string;
  resolve(results: Results): void;
  reject(error: unknown): void;
}

/**
 * "Batch while busy": a call that finds the model idle runs at once (no added latency when idle);
 * calls that arrive while a run is in flight wait and run together, as one batch concatenated
 * along dim 0, as soon as it ends. The window is therefore exactly one run long and adapts to the
 * load by itself: the busier the model, the larger the batches.
 *
 * Batching needs every input and output to have a variable first dimension (the batch); models
 * that do not (or whose run fails on a batch) are run call by call.
 */
export function createMicroBatcher(model: OnnxModel, options: MicroBatcherOptions): MicroBatcher {
  const batchable =
    options.enabled &&
    [...model.inputs, ...model.outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
  const queue: Pending[] = [];
  let busy = false;

  async function drain(): Promise<void> {
    busy = true;
    try {
      while (queue.length > 0) {
        const batch = takeBatch(queue, batchable ? options.maxBatchRows : 0);
        await runBatch(model, batch);
      }
    } finally {
      busy = false;
    }
  }

  return {
    run(feeds) {
      return new Promise<Results>((resolve, reject) => {
        const rows = firstDim(feeds);
        queue.push({ feeds, rows, key: shapeKey(feeds), resolve, reject });
        if (!busy) void drain();
      });
    },
  };
}

/** The head of the queue plus every later call with the same shapes, up to `maxRows` rows. */
function takeBatch(queue: Pending[], maxRows: number): Pending[] {
  const head = queue.shift() as Pending;
  const batch = [head];
  if (maxRows <= 0) return batch;
  let rows = head.rows;
  for (let i = 0; i < queue.length;) {
    const next = queue[i] as Pending;
    if (next.key === head.key && rows + next.rows <= maxRows) {
      batch.push(next);
      rows += next.rows;
      queue.splice(i, 1);
    } else i++;
  }
  return batch;
}

async function runBatch(model: OnnxModel, batch: Pending[]): Promise<void> {
  if (batch.length === 1) {
    const only = batch[0] as Pending;
    await model.run(only.feeds).then(only.resolve, only.reject);
    return;
  }
  let results: Results;
  try {
    results = await model.run(concatFeeds(batch.map((p) => p.feeds)));
  } catch {
    // One bad call must not fail its neighbours: run them one by one, each gets its own answer.
    for (const pending of batch)
      await model.run(pending.feeds).then(pending.resolve, pending.reject);
    return;
  }
  const totalRows = batch.reduce((n, p) => n + p.rows, 0);
  if (Object.values(results).some((t) => t.shape[0] !== totalRows)) {
    for (const pending of batch)
      await model.run(pending.feeds).then(pending.resolve, pending.reject);
    return;
  }
  let offset = 0;
  for (const pending of batch) {
    try {
      pending.resolve(sliceResults(results, offset, pending.rows, model.outputs));
    } catch (error) {
      pending.reject(error);
    }
    offset += pending.rows;
  }
}

function firstDim(feeds: Feeds): number {
  const first = Object.values(feeds)[0];
  return first?.shape[0] ?? 1;
}

function shapeKey(feeds: Feeds): string {
  return Object.keys(feeds)
    .sort()
    .map((name) => `${name}:${feeds[name]?.datatype}:${feeds[name]?.shape.slice(1).join('x')}`)
    .join(';');
}

function concatFeeds(all: readonly Feeds[]): Record<string, Tensor> {
  const first = all[0] as Feeds;
  const out: Record<string, Tensor> = {};
  for (const [name, tensor] of Object.entries(first)) {
    const parts = all.map((feeds) => feeds[name] as Tensor);
    const rows = parts.reduce((n, t) => n + (t.shape[0] ?? 0), 0);
    out[name] = {
      datatype: tensor.datatype,
      shape: [rows, ...tensor.shape.slice(1)],
      data: concatData(parts.map((t) => t.data)),
    };
  }
  return out;
}

function concatData(parts: readonly TensorData[]): TensorData {
  const first = parts[0] as TensorData;
  if (Array.isArray(first)) return (parts as unknown[][]).flat() as TensorData;
  const length = parts.reduce((n, p) => n + p.length, 0);
  const Constructor = first.constructor as new (n: number) => Exclude<TensorData, unknown[]>;
  const out = new Constructor(length);
  let offset = 0;
  for (const part of parts as Exclude<TensorData, unknown[]>[]) {
    out.set(part as never, offset);
    offset += part.length;
  }
  return out;
}

function sliceResults(
  results: Results,
  offset: number,
  rows: number,
  outputs: readonly TensorMetadata[],
): Results {
  const out: Results = {};
  for (const meta of outputs) {
    const tensor = results[meta.name];
    if (!tensor) continue;
    const total = tensor.shape[0] ?? 0;
    const perRow = total === 0 ? 0 : tensor.data.length / total;
    const start = offset * perRow;
    const end = start + rows * perRow;
    const data = Array.isArray(tensor.data)
      ? (tensor.data.slice(start, end) as TensorData)
      : (tensor.data as Exclude<TensorData, unknown[]>).slice(start, end);
    out[meta.name] = { datatype: tensor.datatype, shape: [rows, ...tensor.shape.slice(1)], data };
  }
  return out;
}
