import type { Model, ModelVersion } from '@scoregate/contracts';
import { RpcError } from '@scoregate/rpc';
import { requireName, requireVersion } from './request-checks.js';
import type { RegistryStore } from './store/registry-store.js';

/** A request's choice of version: a version number or an alias. */
export type Selector =
  { case: 'version' | 'alias'; value: string } | { case: undefined; value?: undefined };

/** The model named in `field`, or NOT_FOUND. */
export async function modelOrNotFound(
  store: RegistryStore,
  field: string,
  name: string,
): Promise<Model> {
  requireName(field, name);
  const model = await store.getModel(name);
  if (model === undefined) throw RpcError.notFound(`model "${name}" not found`);
  return model;
}

/** The version the selector names, or NOT_FOUND. */
export async function resolveVersion(
  store: RegistryStore,
  modelName: string,
  selector: Selector,
): Promise<ModelVersion> {
  const model = await modelOrNotFound(store, 'model', modelName);
  let version: string;
  switch (selector.case) {
    case 'version':
      requireVersion('version', selector.value);
      version = selector.value;
      break;
    case 'alias': {
      requireName('alias', selector.value);
      // Own keys only: an alias named `constructor` must not find Object.prototype's.
      const target = Object.hasOwn(model.aliases, selector.value)
        ? model.aliases[selector.value]
        : undefined;
      if (target === undefined)
        throw RpcError.notFound(`model "${modelName}" has no alias "${selector.value}"`);
      version = target;
      break;
    }
    default:
      throw RpcError.invalidArgument('selector', 'set either version or alias');
  }
  const found = await store.getVersion(modelName, version);
  if (found === undefined)
    throw RpcError.notFound(`model "${modelName}" has no version "${version}"`);
  return found;
}
