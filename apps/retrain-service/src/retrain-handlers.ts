import { RetrainService } from '@scoregate/contracts';
import { RpcError, type ServiceHandlers } from '@scoregate/rpc';
import { createJoinHandlers, type OutcomeClockCheck } from './join/join-handlers.js';
import type { LabeledExampleStore } from './join/labeled-example-store.js';

export interface RetrainHandlersOptions {
  /** The join of predictions with outcomes (RecordOutcomes, GetJoinStatus). */
  readonly store: LabeledExampleStore;
  readonly checkOutcomeClock?: OutcomeClockCheck;
}

/**
 * The outcome side of the learning loop is served (RecordOutcomes, GetJoinStatus). Retraining
 * runs and policies are not built yet: those RPCs say so precisely rather than pretending to work.
 */
export function createRetrainHandlers(
  options: RetrainHandlersOptions,
): ServiceHandlers<typeof RetrainService> {
  const handlers: Record<string, unknown> = {};
  for (const method of RetrainService.methods) {
    handlers[method.localName] = () => {
      throw RpcError.unimplemented(
        `${RetrainService.typeName}/${method.name} is not implemented yet: retrain-service joins outcomes with predictions, but retraining runs and policies are not built`,
      );
    };
  }
  Object.assign(handlers, createJoinHandlers(options.store, options.checkOutcomeClock));
  return handlers as ServiceHandlers<typeof RetrainService>;
}
