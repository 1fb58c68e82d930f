export {
  createRegistryWatch,
  type RegistryChange,
  type RegistryWatch,
  type RegistryWatchOptions,
} from './registry-watch.js';
