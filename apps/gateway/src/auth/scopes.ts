/**
 * Scorer scopes: a list of scorer names where `*` matches any run of characters, e.g.
 * `truck-roll-*` or `*` for every scorer.
 */
export type ScorerScope = (scorer: string) => boolean;

export function compileScope(patterns: readonly string[]): ScorerScope {
  const expressions = patterns.map(
    (pattern) =>
      new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 'u') satisfies RegExp,
  );
  return (scorer) => expressions.some((expression) => expression.test(scorer));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
}
