import { register as registerAsyncHooks } from 'node:module';
import {
  register as registerSyncHooks,
  supportsSyncHooks,
} from 'import-in-the-middle/register-hooks.mjs';

export type ImportHookKind = 'sync' | 'async';

/**
 * Makes ES module imports of `modules` patchable by the instrumentations, through
 * import-in-the-middle. Without it, `import * as grpc from '@grpc/grpc-js'` in ESM code
 * bypasses `require` and the instrumentation never sees the module.
 *
 * Must run before any of `modules` is loaded, by ESM or CommonJS: a module already in the
 * ESM cache is never wrapped. Only the listed modules are wrapped; everything else loads
 * untouched.
 *
 * Where Node supports it (>= 24.11.1 on the 24 line), the hooks run synchronously on the main
 * thread (`module.registerHooks`); otherwise on the loader thread (`module.register`), through
 * the loader OpenTelemetry documents, `@opentelemetry/instrumentation/hook.mjs`.
 */
export function registerImportHooks(modules: readonly string[]): ImportHookKind {
  if (supportsSyncHooks()) {
    registerSyncHooks({ include: [...modules] });
    return 'sync';
  }
  registerAsyncHooks('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: [...modules] },
  });
  return 'async';
}
