/**
 * Scoregate names and feature refs (proto/scoregate/common/v1/common.proto): a name matches
 * `^[a-z0-9][a-z0-9_-]{0,62}$`; a feature ref is `view:feature`, both parts names.
 */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function isScoregateName(value: string): boolean {
  return NAME_PATTERN.test(value);
}

/** A feature ref split into its parts. */
export interface FeatureRef {
  readonly view: string;
  readonly feature: string;
}

/** Splits `view:feature`; undefined when the text is not exactly two names joined by `:`. */
export function parseFeatureRef(text: string): FeatureRef | undefined {
  const parts = text.split(':');
  if (parts.length !== 2) return undefined;
  const [view, feature] = parts as [string, string];
  return isScoregateName(view) && isScoregateName(feature) ? { view, feature } : undefined;
}

export function formatFeatureRef(ref: FeatureRef): string {
  return `${ref.view}:${ref.feature}`;
}
