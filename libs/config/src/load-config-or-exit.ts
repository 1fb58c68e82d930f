import { ConfigError } from './config-error.js';
import { loadConfig, type ConfigOf, type EnvSchema } from './load-config.js';

/**
 * For a service's entry point: loads the configuration or stops the process with one message
 * naming every wrong variable (exit code 78, EX_CONFIG).
 */
export function loadConfigOrExit<S extends EnvSchema>(service: string, schema: S): ConfigOf<S> {
  try {
    return loadConfig(service, schema);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
