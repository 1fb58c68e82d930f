/**
 * The naming rules of Scoregate's contracts (scoregate/common/v1/common.proto): a name is lower
 * case letters, digits, `_` and `-`, 1 to 63 bytes, starting with a letter or digit; a version
 * number is a positive decimal integer without leading zeros.
 */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const VERSION_PATTERN = /^[1-9][0-9]{0,17}$/;
/** A sha256 digest as the contracts write it: 64 lower-case hex characters. */
export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export function isName(value: string): boolean {
  return NAME_PATTERN.test(value);
}

export function isVersionNumber(value: string): boolean {
  return VERSION_PATTERN.test(value);
}

export function isSha256(value: string): boolean {
  return SHA256_PATTERN.test(value);
}

/** `view:feature` with both parts names, or a bare feature name (request-time features). */
export function isFeatureRef(value: string): boolean {
  const parts = value.split(':');
  return parts.length <= 2 && parts.every(isName);
}

/** Why a value is not a name, for error messages. */
export function nameRule(value: string): string {
  return `must be a Scoregate name matching ${NAME_PATTERN.source} (got ${JSON.stringify(value)})`;
}

/** Why a value is not a version number, for error messages. */
export function versionRule(value: string): string {
  return `must be a version number: a positive decimal integer such as "1" (got ${JSON.stringify(value)})`;
}
