import { RetrainService } from '@scoregate/contracts';
import { RpcError, type ServiceHandlers } from '@scoregate/rpc';

/**
 * The retraining loop (outcomes → drift and decay monitors → training → evaluation → promotion)
 * is not built yet. Every RPC says so precisely rather than pretending to work.
 */
export function createRetrainHandlers(): ServiceHandlers<typeof RetrainService> {
  const handlers: Record<string, () => never> = {};
  for (const method of RetrainService.methods) {
    handlers[method.localName] = () => {
      throw RpcError.unimplemented(
        `${RetrainService.typeName}/${method.name} is not implemented yet: retrain-service boots and serves health and reflection, but the retraining loop is not built`,
      );
    };
  }
  return handlers as unknown as ServiceHandlers<typeof RetrainService>;
}
