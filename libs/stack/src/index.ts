export { SERVICES, type ServiceName } from './services.js';
export { freePort } from '@scoregate/rpc';
export { startStack, type RunningStack, type StackOptions } from './stack.js';
export {
  spawnService,
  startService,
  type RunningService,
  type ServiceOptions,
} from './service-process.js';
export { mutualTlsClient, serviceTls } from './service-tls.js';
