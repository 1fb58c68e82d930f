import type { GRPCInferenceService } from '@scoregate/contracts';
import { decodeRaw, isDatatype, type Tensor } from '@scoregate/inference-protocol';
import { RpcError, type RpcClient, type RpcLogger } from '@scoregate/rpc';
import { getMeter } from '@scoregate/telemetry';
import { modelInferRequest } from '../inference.js';
import type { ChainModel, Route } from '../route-resolver.js';
import type { RoutedTarget } from './route-table.js';
import { inShare, type EntityRef } from './sticky.js';

/**
 * The shadow model to mirror this entity's request to, or undefined. The scorer's
 * `shadow { model, alias, share }` mirrors `share` of entities, sticky by entity (the same entity
 * type and key are always mirrored, or never, until the share changes).
 */
export function chooseShadow(
  route: Route & { readonly shadow?: RoutedTarget | undefined },
  entity: EntityRef,
): ChainModel | undefined {
  const shadow = route.shadow;
  if (!shadow) return undefined;
  return inShare(entity, shadow.share, `shadow:${route.scorer.name}`) ? shadow.model : undefined;
}

/** One mirrored request: the shadow model and the feature row built for its contract. */
export interface ShadowJob {
  readonly scorer: string;
  readonly requestId: string;
  readonly entity: EntityRef;
  readonly model: ChainModel;
  /** One row, in the shadow model's contract order. */
  readonly row: Float32Array;
  /** Anything the callback needs to log the comparison (e.g. the primary's answer). */
  readonly context?: unknown;
}

/** What the shadow answered (or why it did not), handed to `onResult`. */
export interface ShadowResult {
  readonly job: ShadowJob;
  /** The version scoring-service says answered. */
  readonly version?: string;
  readonly tensors?: Record<string, Tensor>;
  readonly error?: RpcError;
  readonly latencyMs: number;
}

export interface ShadowRunnerStats {
  readonly started: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Refused because maxInFlight shadow calls were already running. */
  readonly dropped: number;
  readonly inFlight: number;
}

export interface ShadowRunner {
  /**
   * Starts the shadow call in the background and returns at once: true when started, false when
   * dropped (too many in flight, or stopped). Never throws, never waits.
   */
  run(job: ShadowJob): boolean;
  stats(): ShadowRunnerStats;
  /** Refuses new jobs and waits (at most `timeoutMs`) for the running ones. */
  drain(timeoutMs?: number): Promise<void>;
}

export interface ShadowRunnerOptions {
  /**
   * The scoring-service client, or a function choosing it per model (e.g.
   * `(model) => backends.forModel(model).client` with per-model scoring routes).
   */
  readonly scoring:
    | RpcClient<typeof GRPCInferenceService>
    | ((model: string) => RpcClient<typeof GRPCInferenceService>);
  readonly logger: RpcLogger;
  /** Most shadow calls running at once; beyond it jobs are dropped and counted. */
  readonly maxInFlight: number;
  /** Each shadow call's own deadline (ms); it never inherits the request's. Default 200. */
  readonly timeoutMs?: number;
  /** Receives every finished shadow call (for the prediction log). Its errors are logged. */
  readonly onResult?: (result: ShadowResult) => void | Promise<void>;
}

/** Counts shadow calls by outcome (also as a metric); logs failures at most once per 10 s. */
class ShadowOutcomes {
  started = 0;
  succeeded = 0;
  failed = 0;
  dropped = 0;
  private lastFailureLogAt = 0;
  private readonly calls = getMeter('scoregate.gateway').createCounter(
    'scoregate.gateway.shadow.calls',
    { description: 'Shadow inferences, by outcome (ok, error, dropped)' },
  );

  constructor(private readonly logger: RpcLogger) {}

  ok(job: ShadowJob): void {
    this.succeeded++;
    this.calls.add(1, { outcome: 'ok', model: job.model.model });
  }

  error(job: ShadowJob, error: RpcError): void {
    this.failed++;
    this.calls.add(1, { outcome: 'error', model: job.model.model });
    // A shadow that is down must not flood the log.
    if (Date.now() - this.lastFailureLogAt > 10_000) {
      this.lastFailureLogAt = Date.now();
      this.logger.warn(
        { err: error, scorer: job.scorer, model: job.model.model, alias: job.model.alias },
        'shadow inference failed (counted in scoregate.gateway.shadow.calls)',
      );
    }
  }

  drop(job: ShadowJob): void {
    this.dropped++;
    this.calls.add(1, { outcome: 'dropped', model: job.model.model });
  }

  stats(inFlight: number): ShadowRunnerStats {
    const { started, succeeded, failed, dropped } = this;
    return { started, succeeded, failed, dropped, inFlight };
  }
}

/** One shadow ModelInfer with its own deadline; outputs without usable data are left out. */
async function inferShadow(
  client: RpcClient<typeof GRPCInferenceService>,
  job: ShadowJob,
  timeoutMs: number,
): Promise<{ version: string; tensors: Record<string, Tensor> }> {
  const reply = await client.modelInfer(
    modelInferRequest(job.model, [job.row], job.row.length, job.requestId),
    { timeoutMs },
  );
  const tensors: Record<string, Tensor> = {};
  reply.outputs.forEach((output, i) => {
    const raw = reply.rawOutputContents[i];
    if (isDatatype(output.datatype) && raw !== undefined)
      tensors[output.name] = decodeRaw(output.datatype, output.shape.map(Number), raw, output.name);
  });
  return { version: reply.modelVersion, tensors };
}

/** The options with the default deadline filled in. */
type ResolvedShadowOptions = ShadowRunnerOptions & { readonly timeoutMs: number };

/** Runs one job to its result (what it answered, or its error), counting the outcome. */
async function shadowResult(
  options: ResolvedShadowOptions,
  job: ShadowJob,
  outcomes: ShadowOutcomes,
): Promise<ShadowResult> {
  const client =
    typeof options.scoring === 'function' ? options.scoring(job.model.model) : options.scoring;
  const begin = performance.now();
  try {
    const { version, tensors } = await inferShadow(client, job, options.timeoutMs);
    outcomes.ok(job);
    return { job, version, tensors, latencyMs: performance.now() - begin };
  } catch (error) {
    const rpcError = RpcError.from(error);
    outcomes.error(job, rpcError);
    return { job, error: rpcError, latencyMs: performance.now() - begin };
  }
}

/** Runs one job and hands its result to `onResult`, whose errors are logged. */
async function execute(
  options: ResolvedShadowOptions,
  job: ShadowJob,
  outcomes: ShadowOutcomes,
): Promise<void> {
  const result = await shadowResult(options, job, outcomes);
  try {
    await options.onResult?.(result);
  } catch (error) {
    options.logger.warn({ err: error, scorer: job.scorer }, 'shadow result callback failed');
  }
}

/**
 * Runs shadow inferences off the request path: each job is a ModelInfer with its own short
 * deadline, not tied to the request (which has usually been answered by then), with bounded
 * concurrency. Whatever happens to a shadow call stays here: it is counted, logged and handed
 * to `onResult`, never thrown to the caller.
 */
export function createShadowRunner(options: ShadowRunnerOptions): ShadowRunner {
  const resolved: ResolvedShadowOptions = { ...options, timeoutMs: options.timeoutMs ?? 200 };
  const { logger, maxInFlight, timeoutMs } = resolved;
  const outcomes = new ShadowOutcomes(logger);
  const running = new Set<Promise<void>>();
  let stopped = false;
  return {
    run(job) {
      if (stopped || running.size >= maxInFlight) {
        outcomes.drop(job);
        return false;
      }
      outcomes.started++;
      // Started on a later tick: not even the request serialisation runs on the caller's time.
      const task: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => execute(resolved, job, outcomes))
        .catch((error: unknown) => logger.warn({ err: error }, 'shadow job failed'))
        .finally(() => running.delete(task));
      running.add(task);
      return true;
    },
    stats: () => outcomes.stats(running.size),
    async drain(drainTimeoutMs = timeoutMs * 2) {
      stopped = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise((resolve) => (timer = setTimeout(resolve, drainTimeoutMs))),
      ]);
      clearTimeout(timer);
    },
  };
}
