export { SERVICES, type ServiceName } from './services.js';
export { freePort } from './free-port.js';
export { startStack, type RunningService, type RunningStack, type StackOptions } from './stack.js';
