import { GRPCInferenceService } from '@scoregate/contracts';
import { createRpcClient, type RpcClient, type TlsOptions } from '@scoregate/rpc';

/** One scoring-service target: a single address, a replica list or a DNS name. */
export interface ScoringBackend {
  /** The target as configured, e.g. `ipv4:127.0.0.1:7001,127.0.0.1:7002`; names breakers. */
  readonly name: string;
  readonly client: RpcClient<typeof GRPCInferenceService>;
}

export interface ScoringBackends {
  /** The backend serving `model`: its own route when it has one, otherwise the default. */
  forModel(model: string): ScoringBackend;
  all(): readonly ScoringBackend[];
  /** Resolves once every backend's channel is connected, or rejects after `timeoutMs`. */
  waitForReady(timeoutMs: number): Promise<void>;
  close(): void;
}

const HOST_PORT = /^[A-Za-z0-9._\-[\]:]+:\d{1,5}$/;

/**
 * Checks a scoring target: `host:port`, `dns:///host:port`, or `ipv4:`/`ipv6:` followed by a
 * comma-separated list of addresses (grpc-js syntax). Throws a message naming the problem.
 */
export function checkScoringTarget(target: string, name = 'SCORING_SERVICE_ADDRESS'): string {
  const list = /^ipv[46]:(.+)$/.exec(target);
  const addresses = list ? list[1]!.split(',') : [target.replace(/^dns:\/\/\//, '')];
  for (const address of addresses) {
    if (!HOST_PORT.test(address)) {
      throw new Error(
        `${name}: "${target}" is not host:port, dns:///host:port or ipv4:host:port,host:port`,
      );
    }
  }
  return target;
}

/**
 * The gRPC service config of every scoring channel: calls balanced round-robin over all the
 * addresses of the target (several `ipv4:` addresses, or every address a `dns:///` name resolves
 * to), and a call that fails with UNAVAILABLE (replica gone) retried on another replica. Retries
 * never outlive the call's deadline (grpc-js stops at the deadline) and are throttled: once more
 * than half of the token bucket is spent on failures, no retry is made until successes refill it.
 */
export const SCORING_SERVICE_CONFIG = {
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [
    {
      name: [{ service: GRPCInferenceService.typeName }],
      retryPolicy: {
        maxAttempts: 3,
        initialBackoff: '0.001s',
        maxBackoff: '0.01s',
        backoffMultiplier: 2,
        retryableStatusCodes: ['UNAVAILABLE'],
      },
    },
  ],
  retryThrottling: { maxTokens: 100, tokenRatio: 0.1 },
} as const;

/**
 * Parses `SCORING_ROUTES`: `model=target;model=target`, where a target is anything
 * SCORING_SERVICE_ADDRESS accepts (`host:port`, `ipv4:a:1,b:2`, `dns:///name:port`). `;`
 * separates routes because `,` separates replica addresses.
 */
export function parseScoringRoutes(text: string): Map<string, string> {
  const routes = new Map<string, string>();
  for (const part of text.split(';')) {
    const entry = part.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const model = entry.slice(0, eq).trim();
    const target = entry.slice(eq + 1).trim();
    if (eq <= 0 || target === '') {
      throw new Error(`SCORING_ROUTES: "${entry}" is not model=address`);
    }
    checkScoringTarget(target, `SCORING_ROUTES (${model})`);
    if (routes.has(model)) throw new Error(`SCORING_ROUTES: model "${model}" is routed twice`);
    routes.set(model, target);
  }
  return routes;
}

/** One client per distinct target; models without a route of their own use `defaultAddress`. */
export function createScoringBackends(options: {
  defaultAddress: string;
  /** `SCORING_ROUTES` text; empty for none. */
  routes?: string;
  tls?: TlsOptions;
}): ScoringBackends {
  const byTarget = new Map<string, ScoringBackend>();
  const backendFor = (target: string): ScoringBackend => {
    let backend = byTarget.get(target);
    if (!backend) {
      backend = {
        name: target,
        client: createRpcClient(GRPCInferenceService, {
          address: target,
          serviceConfig: SCORING_SERVICE_CONFIG,
          ...(options.tls ? { tls: options.tls } : {}),
        }),
      };
      byTarget.set(target, backend);
    }
    return backend;
  };
  const fallback = backendFor(checkScoringTarget(options.defaultAddress));
  const routed = new Map<string, ScoringBackend>();
  for (const [model, target] of parseScoringRoutes(options.routes ?? ''))
    routed.set(model, backendFor(target));
  return {
    forModel: (model) => routed.get(model) ?? fallback,
    all: () => [...byTarget.values()],
    waitForReady: async (timeoutMs) => {
      await Promise.all([...byTarget.values()].map((b) => b.client.waitForReady(timeoutMs)));
    },
    close: () => byTarget.forEach((b) => b.client.close()),
  };
}

/** Wraps one existing client as the backend of every model. */
export function singleScoringBackend(
  client: RpcClient<typeof GRPCInferenceService>,
  name = 'scoring-service',
): ScoringBackends {
  const backend = { name, client };
  return {
    forModel: () => backend,
    all: () => [backend],
    waitForReady: (timeoutMs) => client.waitForReady(timeoutMs),
    close: () => client.close(),
  };
}
