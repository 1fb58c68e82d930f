import type { FeatureValue, RegistryService } from '@scoregate/contracts';
import { ScoreService } from '@scoregate/contracts';
import { createRpcClient, type RpcClient, type RpcLogger, type TlsOptions } from '@scoregate/rpc';

const WARM_UP_KEY = 'scoregate-warm-up';

/**
 * Sends one Score per scorer through the gateway's own port before it reports SERVING, with every
 * feature supplied as zero, so that connections, route caches and code paths are ready when the
 * first real request arrives (cold, the first call can miss a 50 ms budget). Best effort: errors
 * are logged and the gateway starts anyway.
 */
export async function warmUp(options: {
  gatewayAddress: string;
  registry: RpcClient<typeof RegistryService>;
  logger: RpcLogger;
  timeoutMs: number;
  /** How the gateway reaches itself: its own credentials and TLS when those are on. */
  self?: { headers?: Record<string, string>; tls?: TlsOptions };
}): Promise<number> {
  const { registry, logger } = options;
  const deadline = Date.now() + options.timeoutMs;
  const client = createRpcClient(ScoreService, {
    address: options.gatewayAddress,
    ...(options.self?.headers ? { headers: options.self.headers } : {}),
    ...(options.self?.tls ? { tls: options.self.tls } : {}),
  });
  let warmed = 0;
  try {
    const { scorers } = await registry.listScorers({}, { deadline });
    for (const scorer of scorers) {
      const requestFeatures: Record<string, FeatureValue> = {};
      for (const step of scorer.chain) {
        const { version } = await registry.getModelVersion(
          { model: step.model, selector: { case: 'alias', value: step.alias } },
          { deadline },
        );
        for (const input of version?.spec?.contract?.inputs ?? []) {
          requestFeatures[input.ref] = {
            $typeName: 'scoregate.common.v1.FeatureValue',
            kind: { case: 'doubleValue', value: 0 },
          };
        }
      }
      await client.score(
        {
          scorer: scorer.name,
          entityKeys: [{ entityType: scorer.entityType, key: WARM_UP_KEY }],
          requestFeatures,
        },
        { deadline },
      );
      warmed++;
    }
  } catch (error) {
    logger.warn({ err: error }, 'warm-up incomplete; the first calls may be slower');
  } finally {
    client.close();
  }
  return warmed;
}
