export { SERVICES, type ServiceName } from './services.js';
export { freePort } from '@scoregate/rpc';
export {
  serviceTls,
  startStack,
  type RunningService,
  type RunningStack,
  type StackOptions,
} from './stack.js';
