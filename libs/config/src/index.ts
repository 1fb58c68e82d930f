export { ConfigError, type ConfigIssue } from './config-error.js';
export { loadConfig, type ConfigOf, type EnvSchema } from './load-config.js';
export { env } from './env.js';
export { LOG_LEVELS, logLevelEnv } from './log-level.js';
export { exitOnConfigError, loadConfigOrExit } from './load-config-or-exit.js';
