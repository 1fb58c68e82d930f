import {
  BATCH_BUDGET_RULE,
  checkModel,
  usableRow,
  type EntityFeatures,
  type RunnableModel,
} from './chain-plan.js';
import { reasonOfFailure, type Degradation } from './degradation.js';
import type { ChainInput, ModelAnswer } from './fallback-chain.js';
import { inferRows } from './inference.js';
import type { ChainModel } from './route-resolver.js';

/** The per-item state of a batch going down the chain. */
export interface BatchItemState extends EntityFeatures {
  readonly degradation: Degradation;
  answer?: ModelAnswer;
}

/** An item a chain model can answer, with the row built for it. */
interface EligibleItem {
  readonly item: BatchItemState;
  readonly row: Float32Array;
}

/**
 * Scores a batch down the chain: each model gets, in one ModelInfer call, every item still without
 * an answer whose features it has; items whose features it lacks (or whose call failed) go on to
 * the next model. Which models may run follows ScoreBatch's budget rule (`chain-plan.ts`). No
 * hedging: one call per chosen model.
 */
export async function scoreBatchDownChain(
  input: ChainInput,
  items: readonly BatchItemState[],
): Promise<void> {
  for (let position = 0; position < input.route.chain.length; position++) {
    const pending = items.filter((item) => !item.answer);
    if (pending.length === 0) return;
    const eligible = eligibleItems(input.route.chain[position]!, pending);
    if (eligible.length === 0) continue;
    const check = checkModel(input, position, BATCH_BUDGET_RULE);
    if ('runnable' in check) {
      await runBatchModel(input, check.runnable, eligible);
      continue;
    }
    eligible.forEach(({ item }) => item.degradation.reasons.add(check.skipped));
    if (check.stop) return;
  }
}

/** The items whose features the model has; the others record what it lacks. */
function eligibleItems(chainModel: ChainModel, pending: readonly BatchItemState[]): EligibleItem[] {
  const eligible: EligibleItem[] = [];
  for (const item of pending) {
    const row = usableRow(chainModel, item, item.degradation);
    if (row) eligible.push({ item, row });
  }
  return eligible;
}

/** One ModelInfer for every eligible item; on failure each records why and none is answered. */
async function runBatchModel(
  input: ChainInput,
  model: RunnableModel,
  eligible: readonly EligibleItem[],
): Promise<void> {
  const { chainModel, position, backend, key } = model;
  try {
    const inferred = await input.timer.run(
      'inference',
      () =>
        input.resilience.breakers.run(key, () =>
          inferRows(
            backend,
            chainModel,
            eligible.map((e) => e.row),
            input.requestId,
            { parent: input.context, deadline: input.budget.hopDeadline() },
          ),
        ),
      `${chainModel.model}@${chainModel.alias} x${eligible.length}`,
    );
    eligible.forEach(({ item }, row) => {
      item.answer = { chainModel, position, inferred, row };
    });
  } catch (error) {
    const reason = reasonOfFailure(error);
    if (reason !== undefined) eligible.forEach(({ item }) => item.degradation.reasons.add(reason));
    input.logger.warn(
      { err: error, model: chainModel.model, alias: chainModel.alias, items: eligible.length },
      'batch inference failed; its items try the next model in the chain',
    );
  }
}
