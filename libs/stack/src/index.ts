export { SERVICES, type ServiceName } from './services.js';
export { freePort } from '@scoregate/rpc';
export {
  serviceTls,
  startService,
  startStack,
  type RunningService,
  type RunningStack,
  type ServiceOptions,
  type StackOptions,
} from './stack.js';
