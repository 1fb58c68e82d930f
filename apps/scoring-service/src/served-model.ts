import type { OnnxModel } from '@scoregate/inference';
import { elementCount, zeroData, type Tensor } from '@scoregate/inference-protocol';
import { createMicroBatcher, type MicroBatcherOptions } from './micro-batcher.js';

/**
 * One loaded model version, shared by the calls that use it. Calls hold a reference while they
 * run; once the version is retired (replaced or no longer needed), its native session is released
 * when the last call holding it has finished, so a swap never cuts a call short.
 */
export interface ServedModel {
  readonly name: string;
  readonly version: string;
  readonly model: OnnxModel;
  /** The artifact's sha256 when known (registry mode). */
  readonly sha256: string;
  /** Inputs that accept NaN and infinities (registry spec `accepts_non_finite`); others refuse them. */
  readonly nonFiniteInputs: ReadonlySet<string>;
  /** Runs the model through its micro-batcher. Call between `acquire` and the returned release. */
  run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>>;
  /** Takes a reference; returns its release. */
  acquire(): () => void;
  /** No new references after this; the session is released once the last one is given back. */
  retire(): Promise<void>;
  /** References currently held. */
  inUse(): number;
}

export function createServedModel(init: {
  name: string;
  version: string;
  model: OnnxModel;
  sha256?: string;
  nonFiniteInputs?: Iterable<string>;
  batching: MicroBatcherOptions;
}): ServedModel {
  const batcher = createMicroBatcher(init.model, init.batching);
  let references = 0;
  let retired = false;
  let released: Promise<void> | undefined;
  let onIdle: (() => void) | undefined;

  const releaseSession = () => (released ??= init.model.release());

  return {
    name: init.name,
    version: init.version,
    model: init.model,
    sha256: init.sha256 ?? '',
    nonFiniteInputs: new Set(init.nonFiniteInputs),
    run: (feeds) => batcher.run(feeds),
    acquire() {
      if (retired) throw new Error(`${init.name} version ${init.version} is retired`);
      references++;
      let given = false;
      return () => {
        if (given) return;
        given = true;
        references--;
        if (references === 0) onIdle?.();
      };
    },
    async retire() {
      retired = true;
      if (references > 0) await new Promise<void>((resolve) => (onIdle = resolve));
      await releaseSession();
    },
    inUse: () => references,
  };
}

/**
 * Runs a model once on zeros (one row; variable dimensions set to 1) so the first real call does
 * not pay for lazy initialisation, and so a model that loads but cannot run is caught before it
 * serves.
 */
export async function warmUp(model: OnnxModel): Promise<void> {
  const feeds: Record<string, Tensor> = {};
  for (const input of model.inputs) {
    const shape = input.shape.map((d) => (d < 0 ? 1 : d));
    const data = zeroData(input.datatype, elementCount(shape));
    feeds[input.name] = { datatype: input.datatype, shape, data };
  }
  const results = await model.run(feeds);
  for (const output of model.outputs) {
    if (!results[output.name]) throw new Error(`warm-up run produced no output "${output.name}"`);
  }
}
