import { toJson } from '@bufbuild/protobuf';
import { durationFromMs } from '@bufbuild/protobuf/wkt';
import { ScoreResponseSchema, ScoreService } from '@scoregate/contracts';
import { Code, createRpcClient, RpcError } from '@scoregate/rpc';
import { tlsTo } from './tls.js';

export interface ScoreOptions {
  readonly address: string;
  readonly scorer: string;
  /** `entity_type:key` pairs. */
  readonly entities: readonly string[];
  readonly budgetMs?: number;
  readonly timeoutMs: number;
}

/** Calls Score once and prints the answer as the proto's canonical JSON. */
export async function scoreOnce(options: ScoreOptions): Promise<number> {
  const client = createRpcClient(ScoreService, { address: options.address, ...tlsTo('gateway') });
  try {
    const response = await client.score(
      {
        scorer: options.scorer,
        entityKeys: options.entities.map((pair) => {
          const at = pair.indexOf(':');
          return at < 0
            ? { entityType: '', key: pair }
            : { entityType: pair.slice(0, at), key: pair.slice(at + 1) };
        }),
        ...(options.budgetMs === undefined ? {} : { budget: durationFromMs(options.budgetMs) }),
      },
      { timeoutMs: options.timeoutMs },
    );
    console.log(JSON.stringify(toJson(ScoreResponseSchema, response), null, 2));
    return 0;
  } catch (error) {
    const rpcError = RpcError.from(error);
    console.error(`error: ${Code[rpcError.code]} ${rpcError.message}`);
    return 1;
  } finally {
    client.close();
  }
}
