import { ConfigError } from './config-error.js';
import { loadConfig, type ConfigOf, type EnvSchema } from './load-config.js';

/**
 * For a service's entry point: loads the configuration or stops the process with one message
 * naming every wrong variable (exit code 78, EX_CONFIG).
 */
export function loadConfigOrExit<S extends EnvSchema>(service: string, schema: S): ConfigOf<S> {
  return exitOnConfigError(() => loadConfig(service, schema));
}

/**
 * For a service's entry point: the result of `load`, or, when it throws a ConfigError, the
 * process stops with its message (exit code 78, EX_CONFIG). Other errors are thrown on.
 */
export function exitOnConfigError<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
