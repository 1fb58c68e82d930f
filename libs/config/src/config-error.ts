/** One wrong environment variable and why it is wrong. */
export interface ConfigIssue {
  readonly variable: string;
  readonly reason: string;
}

/**
 * Thrown when the environment does not describe a valid configuration. The message names every
 * wrong variable at once, so an operator fixes them all in one go.
 */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(service: string, issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  - ${i.variable}: ${i.reason}`);
    super(
      `${service}: invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
