import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  DegradationReason,
  type ScoreResponseSchema,
  type OutputSchema,
  type FeatureResult,
  type FeatureService,
  type GRPCInferenceService,
  type ScoreRequest,
} from '@scoregate/contracts';
import {
  decodeRaw,
  encodeRaw,
  isDatatype,
  numberAt,
  type Tensor,
} from '@scoregate/inference-protocol';
import { Code, RpcError, type CallContext, type RpcClient, type RpcLogger } from '@scoregate/rpc';
import { currentTraceId } from '@scoregate/telemetry';
import { effectiveBudgetMs } from './budget.js';
import { buildFeatureVector } from './feature-vector.js';
import type { ChainModel, Route, RouteResolver } from './route-resolver.js';
import { validateScoreRequest } from './score-request.js';
import { StageTimer, durationOf } from './stage-timer.js';

export interface ScoreDependencies {
  readonly routes: RouteResolver;
  readonly features: RpcClient<typeof FeatureService>;
  readonly scoring: RpcClient<typeof GRPCInferenceService>;
  readonly logger: RpcLogger;
  readonly defaultBudgetMs: number;
  /** Kept back from every downstream deadline so the answer itself still fits the budget. */
  readonly responseReserveMs: number;
}

interface Answer {
  readonly chainModel: ChainModel;
  /** The version that answered, as scoring-service reports it. */
  readonly version: string;
  readonly tensors: Record<string, Tensor>;
}

/** Serves one Score call: resolve → features → best model whose inputs are present → answer. */
export async function score(
  deps: ScoreDependencies,
  request: ScoreRequest,
  context: CallContext,
): Promise<MessageInitShape<typeof ScoreResponseSchema>> {
  const valid = validateScoreRequest(request);
  const timer = new StageTimer();
  const started = Date.now();
  const provisionalDeadline =
    started +
    effectiveBudgetMs({
      clientRemainingMs: context.remainingMs(),
      requestBudgetMs: valid.budgetMs,
      scorerBudgetMs: undefined,
      defaultBudgetMs: deps.defaultBudgetMs,
    });
  const route = await timer.run('resolve', () =>
    deps.routes.resolve(valid.scorer, context, provisionalDeadline),
  );
  const budgetMs = effectiveBudgetMs({
    clientRemainingMs: context.remainingMs() + (Date.now() - started),
    requestBudgetMs: valid.budgetMs,
    scorerBudgetMs: route.budgetMs,
    defaultBudgetMs: deps.defaultBudgetMs,
  });
  // Downstream calls must end early enough for the answer (perhaps the default) to fit the budget.
  const deadline = started + budgetMs - deps.responseReserveMs;

  const entityType = route.scorer.entityType;
  const entity = valid.entityKeys.find((e) => e.entityType === entityType);
  if (!entity) {
    throw RpcError.invalidArgument(
      'entity_keys',
      `scorer "${valid.scorer}" scores "${entityType}" entities; no key of that type was given`,
    );
  }

  const reasons = new Set<DegradationReason>();
  const missing = new Set<string>();
  const stale = new Set<string>();
  const stored = await timer.run('features', () =>
    fetchFeatures(deps, route, entity, context, deadline, reasons),
  );

  let answer: Answer | undefined;
  for (const chainModel of route.chain) {
    if (Date.now() >= deadline) break;
    const vector = buildFeatureVector(chainModel.contract, stored, valid.requestFeatures);
    if (vector.missing.length > 0 || vector.stale.length > 0) {
      vector.missing.forEach((f) => missing.add(f));
      vector.stale.forEach((f) => stale.add(f));
      if (vector.missing.length > 0) reasons.add(DegradationReason.FEATURES_MISSING);
      if (vector.stale.length > 0) reasons.add(DegradationReason.FEATURES_STALE);
      continue;
    }
    try {
      const inferred = await timer.run(
        'inference',
        () => infer(deps, chainModel, vector.values, valid.requestId, context, deadline),
        `${chainModel.model}@${chainModel.alias}`,
      );
      answer = { chainModel, ...inferred };
      break;
    } catch (error) {
      const code = RpcError.from(error).code;
      reasons.add(
        code === Code.DEADLINE_EXCEEDED
          ? DegradationReason.PRIMARY_TIMEOUT
          : DegradationReason.MODEL_ERROR,
      );
      deps.logger.warn(
        { err: error, model: chainModel.model, version: chainModel.version },
        'model failed; trying the next in the chain',
      );
    }
  }

  if (!answer) reasons.add(DegradationReason.DEFAULT_ANSWER);
  const degraded =
    !answer ||
    answer.chainModel !== route.chain[0] ||
    reasons.has(DegradationReason.FEATURES_UNAVAILABLE);
  const totalMs = timer.elapsedMs();
  return {
    requestId: valid.requestId,
    traceId: currentTraceId(),
    ...(answer
      ? {
          score: scoreOf(route, answer.tensors),
          outputs: toOutputs(answer.tensors),
          servedBy: {
            model: answer.chainModel.model,
            version: answer.version,
            alias: answer.chainModel.alias,
          },
        }
      : { score: route.scorer.defaultAnswer?.score ?? 0, servedBy: { alias: 'default' } }),
    degraded,
    reasons: degraded ? [...reasons] : [],
    missingFeatures: [...missing],
    staleFeatures: [...stale],
    timings: {
      budget: durationOf(budgetMs),
      total: durationOf(totalMs),
      margin: durationOf(budgetMs - totalMs),
      stages: timer.stages,
    },
  };
}

async function fetchFeatures(
  deps: ScoreDependencies,
  route: Route,
  entity: ScoreRequest['entityKeys'][number],
  context: CallContext,
  deadline: number,
  reasons: Set<DegradationReason>,
): Promise<Map<string, FeatureResult>> {
  const refs = [...new Set(route.chain.flatMap((m) => m.contract.map((f) => f.ref)))];
  const stored = new Map<string, FeatureResult>();
  if (refs.length === 0) return stored;
  try {
    const reply = await deps.features.getFeatures(
      { entities: [entity], featureRefs: refs },
      { parent: context, deadline },
    );
    for (const value of reply.results[0]?.values ?? []) stored.set(value.ref, value);
  } catch (error) {
    // Without stored features, models whose inputs come with the request can still answer.
    reasons.add(DegradationReason.FEATURES_UNAVAILABLE);
    deps.logger.warn({ err: error }, 'feature-service failed; scoring with request features only');
  }
  return stored;
}

async function infer(
  deps: ScoreDependencies,
  chainModel: ChainModel,
  row: Float32Array,
  requestId: string,
  context: CallContext,
  deadline: number,
): Promise<{ version: string; tensors: Record<string, Tensor> }> {
  const reply = await deps.scoring.modelInfer(
    {
      modelName: chainModel.model,
      // By alias: while an alias moves, the route cache may still name the old version, but
      // scoring-service always knows what the alias serves now. The reply says which version.
      modelVersion: chainModel.alias,
      id: requestId,
      inputs: [{ name: chainModel.inputName, datatype: 'FP32', shape: [1n, BigInt(row.length)] }],
      rawInputContents: [encodeRaw({ datatype: 'FP32', shape: [1, row.length], data: row })],
    },
    { parent: context, deadline },
  );
  const tensors: Record<string, Tensor> = {};
  reply.outputs.forEach((output, i) => {
    const raw = reply.rawOutputContents[i];
    if (!isDatatype(output.datatype) || raw === undefined) {
      throw new RpcError(
        Code.INTERNAL,
        `scoring-service sent output "${output.name}" without usable data`,
      );
    }
    tensors[output.name] = decodeRaw(output.datatype, output.shape.map(Number), raw, output.name);
  });
  return { version: reply.modelVersion, tensors };
}

function toOutputs(tensors: Record<string, Tensor>): MessageInitShape<typeof OutputSchema>[] {
  return Object.entries(tensors).map(([name, tensor]) => ({
    name,
    datatype: tensor.datatype,
    // One entity: drop the batch dimension.
    shape: tensor.shape.slice(1).map(BigInt),
    values: Array.from({ length: tensor.data.length }, (_, i) => numberAt(tensor, i)),
  }));
}

function scoreOf(route: Route, tensors: Record<string, Tensor>): number {
  const tensor = tensors[route.scorer.scoreOutput];
  if (!tensor)
    throw new RpcError(
      Code.INTERNAL,
      `model output "${route.scorer.scoreOutput}" named by scorer "${route.scorer.name}" is missing`,
    );
  return numberAt(tensor, route.scorer.scoreIndex);
}
