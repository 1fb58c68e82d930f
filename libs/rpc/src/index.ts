export { Code, RpcError, type FieldViolation, type RpcErrorOptions } from './rpc-error.js';
export type { CallContext } from './call-context.js';
export { annotateCall } from './call-context.js';
export type {
  CallOptions,
  ClientMethod,
  MethodHandler,
  RpcClient,
  ServerInterceptor,
  ServiceHandlers,
} from './handler-types.js';
export {
  createRpcServer,
  type RpcServer,
  type RpcServerOptions,
  type ShutdownOptions,
} from './server.js';
export { createRpcClient, type RpcClientOptions } from './client.js';
export {
  createRawClient,
  type RawAnswer,
  type RawCallOptions,
  type RawClient,
  type RawClientOptions,
} from './raw-client.js';
export {
  drainOnSignals,
  exitOnSignals,
  type DrainOnSignalsOptions,
  type ShutdownHandlerOptions,
} from './shutdown.js';
export type { RpcLogger } from './logger.js';
export type { TlsOptions } from './credentials.js';
export {
  MUTUAL_TLS_VARIABLES,
  mutualTls,
  mutualTlsEnv,
  mutualTlsOrExit,
  type MutualTls,
  type MutualTlsSettings,
} from './mutual-tls.js';
export { methodPath } from './service-definition.js';
export type { EarlyRefusal } from './early-refusal.js';
export { implement, serve, type ServeOptions, type ServiceImplementation } from './serve.js';
export { checkHealth, watchHealth, type HealthStatus } from './health-client.js';
export { freePort } from './free-port.js';
