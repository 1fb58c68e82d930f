/**
 * The soak's traffic: a realistic mix of Score calls and the answer each kind must get.
 * - healthy: a known customer on the demo scorer → OK;
 * - missing features: a customer the feature store has never seen → OK (degraded: a fallback
 *   model or the default answer);
 * - unknown scorer → NOT_FOUND;
 * - malformed: random bytes as the request → INVALID_ARGUMENT.
 * Anything else (another status, a client deadline missed) is an error.
 */
import { randomBytes } from 'node:crypto';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { ScoreService } from '@scoregate/contracts';
import { Code, createRawClient, createRpcClient, RpcError } from '@scoregate/rpc';

export type CallKind = 'healthy' | 'missing_features' | 'unknown_scorer' | 'malformed';
export const CALL_KINDS: readonly CallKind[] = [
  'healthy',
  'missing_features',
  'unknown_scorer',
  'malformed',
];

/** Share of each kind in the mix, in calls out of 20. */
const MIX: readonly CallKind[] = [
  ...Array<CallKind>(14).fill('healthy'),
  ...Array<CallKind>(2).fill('missing_features'),
  ...Array<CallKind>(2).fill('unknown_scorer'),
  ...Array<CallKind>(2).fill('malformed'),
];
const EXPECTED: Record<CallKind, string> = {
  healthy: 'OK',
  missing_features: 'OK',
  unknown_scorer: 'NOT_FOUND',
  malformed: 'INVALID_ARGUMENT',
};
const KNOWN = ['c-0001', 'c-0002', 'c-0003', 'c-0004', 'c-0005'];
const SCORE_PATH = '/scoregate.gateway.v1.ScoreService/Score';

export interface CallResult {
  readonly kind: CallKind;
  readonly ms: number;
  /** gRPC status name, e.g. OK, NOT_FOUND. */
  readonly status: string;
  /** The error's message, for answers other than OK. */
  readonly message: string;
  readonly expected: boolean;
  /** OK answers only: the response said it was degraded. */
  readonly degraded: boolean;
}

export interface ScoreMix {
  call(i: number): Promise<CallResult>;
  close(): void;
}

export function createScoreMix(address: string, budgetMs: number, timeoutMs: number): ScoreMix {
  const client = createRpcClient(ScoreService, { address });
  const raw = createRawClient({ address });
  const budget = durationFromMs(budgetMs);
  const statusName = (code: number) => Code[code] ?? String(code);

  const score = async (kind: CallKind, i: number) => {
    const key = kind === 'missing_features' ? `never-seen-${i % 1000}` : KNOWN[i % KNOWN.length]!;
    const scorer = kind === 'unknown_scorer' ? `no-such-scorer-${i % 7}` : 'truck-roll-priority';
    const reply = await client.score(
      { scorer, entityKeys: [{ entityType: 'customer', key }], budget },
      { timeoutMs },
    );
    return reply.degraded;
  };
  const malformed = async (i: number) => {
    const answer = await raw.unary(SCORE_PATH, randomBytes(8 + (i % 120)), { timeoutMs });
    if (answer.code !== Code.OK) throw new RpcError(answer.code, answer.details);
    return false;
  };

  return {
    async call(i) {
      const kind = MIX[i % MIX.length]!;
      const t0 = performance.now();
      let status = 'OK';
      let message = '';
      let degraded = false;
      try {
        degraded = kind === 'malformed' ? await malformed(i) : await score(kind, i);
      } catch (error) {
        const rpcError = RpcError.from(error);
        status = statusName(rpcError.code);
        message = rpcError.message;
      }
      const ms = performance.now() - t0;
      return { kind, ms, status, message, expected: status === EXPECTED[kind], degraded };
    },
    close() {
      client.close();
      raw.close();
    },
  };
}
