import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ModelSchema, ModelVersionSchema } from '@scoregate/contracts';
import { Code, RpcError } from '@scoregate/rpc';
import type { RegistryStore } from './store/registry-store.js';
import { resolveVersion } from './version-selector.js';

/** A store holding one model, `m`, with version 1 behind the alias `champion`. */
const store = {
  getModel: async (name: string) =>
    name === 'm' ? create(ModelSchema, { name, aliases: { champion: '1' } }) : undefined,
  getVersion: async (model: string, version: string) =>
    model === 'm' && version === '1' ? create(ModelVersionSchema, { model, version }) : undefined,
} as unknown as RegistryStore;

const byAlias = (alias: string) =>
  resolveVersion(store, 'm', { case: 'alias', value: alias }).catch((error: unknown) => error);

describe('resolving a version through an alias', () => {
  it('finds the version the alias points at', async () => {
    expect(((await byAlias('champion')) as { version: string }).version).toBe('1');
  });

  it('answers NOT_FOUND for an alias named like an Object property, which the model does not have', async () => {
    for (const alias of ['constructor', 'valueof', 'tostring']) {
      const error = await byAlias(alias);
      expect(error).toBeInstanceOf(RpcError);
      expect(Code[(error as RpcError).code]).toBe('NOT_FOUND');
      expect((error as RpcError).message).toBe(`model "m" has no alias "${alias}"`);
    }
  });
});
