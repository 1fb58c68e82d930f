import { Code, createRawClient, type TlsOptions } from '@scoregate/rpc';
import { createMalformedScoreRequests } from './malformed-score-requests.js';

const SCORE = '/scoregate.gateway.v1.ScoreService/Score';

/** How many calls ended in each status, by name (`INVALID_ARGUMENT: 812`). */
export type StatusCounts = Record<string, number>;

export interface MalformedTrafficOptions {
  /** `host:port` of a gateway. */
  readonly address: string;
  readonly tls?: TlsOptions;
  readonly calls: number;
  /** Calls in flight at once (closed loop). */
  readonly concurrency: number;
  /** Seed of the requests (see createMalformedScoreRequests). */
  readonly seed: number;
  /** The scorer of the requests that are otherwise valid. */
  readonly scorer?: string;
  /** Client deadline of each call. Default 5 s. */
  readonly timeoutMs?: number;
  /** Every this many calls, sending pauses until `onCheckpoint` resolves. Default: at the end only. */
  readonly checkpointEvery?: number;
  onCheckpoint?(sent: number, statuses: Readonly<StatusCounts>): Promise<void> | void;
}

/**
 * Sends `calls` malformed Score calls to a gateway, `concurrency` at a time, and counts how each
 * ended. Resolves with the counts once every call has its answer.
 */
export async function sendMalformedScoreCalls(
  options: MalformedTrafficOptions,
): Promise<StatusCounts> {
  const next = createMalformedScoreRequests(options.seed, options.scorer);
  const client = createRawClient({
    address: options.address,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  const statuses: StatusCounts = {};
  const timeoutMs = options.timeoutMs ?? 5_000;
  const segment = options.checkpointEvery ?? options.calls;
  let sent = 0;
  try {
    while (sent < options.calls) {
      const end = Math.min(options.calls, sent + segment);
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (sent < end) {
            sent++;
            const { code } = await client.unary(SCORE, next().bytes, { timeoutMs });
            const name = Code[code] ?? String(code);
            statuses[name] = (statuses[name] ?? 0) + 1;
          }
        }),
      );
      await options.onCheckpoint?.(sent, statuses);
    }
  } finally {
    client.close();
  }
  return statuses;
}
