/**
 * A gateway on real gRPC in front of stand-ins for scoring-service and feature-service, for the
 * gateway's specs (not part of the gateway build, not a spec itself). The thing under test is the
 * gateway, not the models: per model, how long ModelInfer holds and whether it fails; per entity
 * key, which features are missing or stale, and whether the feature read fails.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { ChainModel } from '../route-resolver.js';
import {
  FeatureInputSchema,
  FeatureService,
  FeatureStatus,
  GRPCInferenceService,
  ScoreService,
  ScorerSchema,
  type FeatureResultSchema,
  type GetFeaturesRequest,
  type ModelInferRequest,
  type Scorer,
} from '@scoregate/contracts';
import { encodeRaw } from '@scoregate/inference-protocol';
import {
  Code,
  createRpcClient,
  createRpcServer,
  RpcError,
  type CallContext,
  type RpcClient,
  type RpcLogger,
  type RpcServer,
  type ServerInterceptor,
  type ServiceHandlers,
} from '@scoregate/rpc';
import type { Admission } from '../admission.js';
import type { ScoreDependencies } from '../score-dependencies.js';
import { createScoreHandlers } from '../score-handlers.js';

const unimplemented = () => Promise.reject(new RpcError(Code.UNIMPLEMENTED, 'not in this test'));

/** Handlers of a scoring-service stand-in that only answers ModelInfer (the rest: UNIMPLEMENTED). */
export function modelInferOnly(
  modelInfer: ServiceHandlers<typeof GRPCInferenceService>['modelInfer'],
): ServiceHandlers<typeof GRPCInferenceService> {
  return {
    serverLive: unimplemented,
    serverReady: unimplemented,
    modelReady: unimplemented,
    serverMetadata: unimplemented,
    modelMetadata: unimplemented,
    modelInfer,
  };
}

/** The scorer every test route serves: customers, default answer 0.3, score = probabilities[1]. */
/** A chain step of `model@champion` (version 1) whose contract requires `refs`, in order. */
export const chainModel = (model: string, refs: readonly string[]): ChainModel => ({
  model,
  alias: 'champion',
  version: '1',
  inputName: 'features',
  contract: refs.map((ref) => create(FeatureInputSchema, { ref, required: true })),
  outputs: [],
});

export const testScorer: Scorer = create(ScorerSchema, {
  name: 'test-scorer',
  entityType: 'customer',
  defaultAnswer: { score: 0.3 },
  scoreOutput: 'probabilities',
  scoreIndex: 1,
});

/** How a model's stand-in answers ModelInfer. */
export interface ModelBehaviour {
  /** Hold the call this long (ms) before answering, or until the caller cancels. */
  readonly holdMs?: number;
  /** Answer UNAVAILABLE. */
  readonly fail?: boolean;
}

/** What a test gateway is given: the downstream clients are the bed's own. */
export type TestGatewayDependencies = Omit<ScoreDependencies, 'features' | 'scoring'> & {
  readonly admission?: Admission;
};

export class ScoreTestBed {
  /** Per model, how its stand-in answers. */
  readonly behaviour = new Map<string, ModelBehaviour>();
  /** Per model, when each ModelInfer arrived (epoch ms). */
  readonly received = new Map<string, number[]>();
  /** Per model, the rows of each ModelInfer. */
  readonly rowsSeen = new Map<string, number[]>();
  /** Per entity key, the feature refs the feature stand-in reports MISSING. */
  readonly missingFor = new Map<string, readonly string[]>();
  /** Per entity key, the feature refs the feature stand-in reports STALE (with a value). */
  readonly staleFor = new Map<string, readonly string[]>();
  /** Entity keys whose feature read fails with UNAVAILABLE. */
  readonly featuresDownFor = new Set<string>();
  /** Per entity key, how long its feature read holds (ms) before answering, or until cancelled. */
  readonly featuresHeldFor = new Map<string, number>();
  /** GetFeatures calls the feature stand-in received. */
  featureReads = 0;
  private readonly servers: RpcServer[] = [];
  private readonly clients: { close(): void }[] = [];
  private addresses?: { features: string; scoring: string };

  constructor(
    private readonly options: {
      readonly logger: RpcLogger;
      /** The version each model's stand-in reports having answered with ('1' if not named). */
      readonly versions?: Readonly<Record<string, string>>;
    },
  ) {}

  /** Starts the two stand-ins. */
  async start(): Promise<void> {
    const scoring = createRpcServer({ name: 'scoring-stand-in', logger: this.options.logger });
    scoring.register(
      GRPCInferenceService,
      modelInferOnly((request, context) => this.modelInfer(request, context)),
    );
    const features = createRpcServer({ name: 'features-stand-in', logger: this.options.logger });
    features.register(FeatureService, {
      writeFeatures: unimplemented,
      listFeatureViews: unimplemented,
      getFeatures: (request, context) => this.getFeatures(request, context),
    });
    this.servers.push(scoring, features);
    this.addresses = {
      scoring: `127.0.0.1:${await scoring.listen('127.0.0.1:0')}`,
      features: `127.0.0.1:${await features.listen('127.0.0.1:0')}`,
    };
  }

  /** A gateway on real gRPC with the stand-ins behind it, and a client of it. */
  async gateway(
    deps: (scoring: RpcClient<typeof GRPCInferenceService>) => TestGatewayDependencies,
    options: { interceptors?: ServerInterceptor[]; headers?: Record<string, string> } = {},
  ): Promise<RpcClient<typeof ScoreService>> {
    if (!this.addresses) throw new Error('start the test bed first');
    const features = createRpcClient(FeatureService, { address: this.addresses.features });
    const scoring = createRpcClient(GRPCInferenceService, { address: this.addresses.scoring });
    this.clients.push(features, scoring);
    const server = createRpcServer({
      name: 'gateway-under-test',
      logger: this.options.logger,
      ...(options.interceptors ? { interceptors: options.interceptors } : {}),
    });
    server.register(ScoreService, createScoreHandlers({ ...deps(scoring), features, scoring }));
    this.servers.push(server);
    const client = createRpcClient(ScoreService, {
      address: `127.0.0.1:${await server.listen('127.0.0.1:0')}`,
      defaultTimeoutMs: 5_000,
      ...(options.headers ? { headers: options.headers } : {}),
    });
    this.clients.push(client);
    return client;
  }

  /** Forgets every behaviour, feature gap and call seen. */
  reset(): void {
    for (const map of [
      this.behaviour,
      this.received,
      this.rowsSeen,
      this.missingFor,
      this.staleFor,
      this.featuresHeldFor,
    ])
      map.clear();
    this.featuresDownFor.clear();
    this.featureReads = 0;
  }

  async stop(): Promise<void> {
    this.clients.forEach((c) => c.close());
    await Promise.all(this.servers.map((s) => s.shutdown({ graceMs: 100 })));
  }

  /** Answers probabilities [1 - p, p] per row: p = 0.75 for `primary`, 0.6 for any other model. */
  private async modelInfer(request: ModelInferRequest, context: CallContext) {
    const model = request.modelName;
    this.received.set(model, [...(this.received.get(model) ?? []), Date.now()]);
    const rows = Number(request.inputs[0]?.shape[0] ?? 1n);
    this.rowsSeen.set(model, [...(this.rowsSeen.get(model) ?? []), rows]);
    const behaviour = this.behaviour.get(model) ?? {};
    if (behaviour.holdMs) await held(behaviour.holdMs, context.signal);
    if (behaviour.fail) throw new RpcError(Code.UNAVAILABLE, 'scoring stand-in is failing');
    const p = model === 'primary' ? 0.75 : 0.6;
    const data = new Float32Array(rows * 2);
    for (let r = 0; r < rows; r++) data.set([1 - p, p], r * 2);
    return {
      modelName: model,
      modelVersion: this.options.versions?.[model] ?? '1',
      id: request.id,
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [BigInt(rows), 2n] }],
      rawOutputContents: [encodeRaw({ datatype: 'FP32', shape: [rows, 2], data })],
    };
  }

  /**
   * Every feature is 1 and fresh, except those named missing or stale for the entity key; the read
   * holds or fails as told for the key.
   */
  private async getFeatures(request: GetFeaturesRequest, context: CallContext) {
    this.featureReads++;
    const holdMs = Math.max(
      0,
      ...request.entities.map((e) => this.featuresHeldFor.get(e.key) ?? 0),
    );
    if (holdMs > 0) await held(holdMs, context.signal);
    if (request.entities.some((e) => this.featuresDownFor.has(e.key)))
      return Promise.reject(new RpcError(Code.UNAVAILABLE, 'feature store down'));
    const value = { kind: { case: 'doubleValue' as const, value: 1 } };
    const featureOf = (key: string, ref: string): MessageInitShape<typeof FeatureResultSchema> => {
      if (this.missingFor.get(key)?.includes(ref)) return { ref, status: FeatureStatus.MISSING };
      if (this.staleFor.get(key)?.includes(ref)) return { ref, status: FeatureStatus.STALE, value };
      return { ref, status: FeatureStatus.OK, value };
    };
    return {
      results: request.entities.map((entity) => ({
        entity,
        values: request.featureRefs.map((ref) => featureOf(entity.key, ref)),
      })),
    };
  }
}

/** Waits `ms`, or less when `signal` aborts. */
export function held(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
