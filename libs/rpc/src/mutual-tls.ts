import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError, env, type ConfigIssue } from '@scoregate/config';
import type { TlsOptions } from './credentials.js';

/**
 * mTLS between services, one option for the whole stack: SCOREGATE_TLS_CA (the CA that signs
 * every service's certificate), SCOREGATE_TLS_CERT and SCOREGATE_TLS_KEY (this process's
 * certificate, presented both when serving and when calling another service). All three or none.
 */
export const MUTUAL_TLS_VARIABLES = [
  'SCOREGATE_TLS_CA',
  'SCOREGATE_TLS_CERT',
  'SCOREGATE_TLS_KEY',
] as const;

type MutualTlsVariable = (typeof MUTUAL_TLS_VARIABLES)[number];

/** The three variables as read from the environment (unset = undefined). */
export type MutualTlsSettings = Partial<Record<MutualTlsVariable, string | undefined>>;

/** Server and client options of one process when mTLS between services is on. */
export interface MutualTls {
  /** Serve TLS and require a client certificate signed by the CA. */
  readonly server: TlsOptions;
  /** Trust only the CA and present this process's certificate. */
  readonly client: TlsOptions;
}

type PemKind = 'CERTIFICATE' | 'PRIVATE KEY';
const expected: Record<MutualTlsVariable, PemKind> = {
  SCOREGATE_TLS_CA: 'CERTIFICATE',
  SCOREGATE_TLS_CERT: 'CERTIFICATE',
  SCOREGATE_TLS_KEY: 'PRIVATE KEY',
};

/** Why `file` cannot serve as a PEM file of `kind`, or undefined when it can. */
function pemProblem(file: string, kind: PemKind): string | undefined {
  let text: string;
  try {
    if (statSync(file).isDirectory()) return `${file} is a directory, not a PEM file`;
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    return `cannot read ${file} (${why ?? (error as Error).message})`;
  }
  const pattern =
    kind === 'CERTIFICATE' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  if (!pattern.test(text)) return `${file} holds no PEM ${kind.toLowerCase()}`;
  try {
    if (kind === 'CERTIFICATE') new X509Certificate(text);
    else createPrivateKey(text);
  } catch (error) {
    return `${file} holds an invalid ${kind.toLowerCase()} (${(error as Error).message})`;
  }
  return undefined;
}

function pemFile(kind: PemKind) {
  return env.optionalString().superRefine((file, context) => {
    const problem = file === undefined ? undefined : pemProblem(file, kind);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });
}

/**
 * Schema fragment for a service's configuration (spread it into the schema given to
 * `loadConfigOrExit`): each variable, when set, must name a readable PEM file of the right kind.
 * That all three go together is checked by {@link mutualTls} / {@link mutualTlsOrExit}.
 */
export const mutualTlsEnv = {
  /** PEM CA certificate: the only CA trusted, for servers and for clients. */
  SCOREGATE_TLS_CA: pemFile('CERTIFICATE'),
  /** PEM certificate (chain) of this process, valid for server and client authentication. */
  SCOREGATE_TLS_CERT: pemFile('CERTIFICATE'),
  /** PEM private key of SCOREGATE_TLS_CERT. */
  SCOREGATE_TLS_KEY: pemFile('PRIVATE KEY'),
};

/**
 * Turns the three file paths into server and client TLS options; undefined when none is set.
 * Throws a {@link ConfigError} naming every variable at fault: unset while another is set, a file
 * that cannot be read or holds no PEM of the right kind, a key that is not the certificate's.
 */
export function mutualTls(service: string, settings: MutualTlsSettings): MutualTls | undefined {
  const set = MUTUAL_TLS_VARIABLES.filter((name) => settings[name]);
  if (set.length === 0) return undefined;
  const issues: ConfigIssue[] = [];
  if (set.length < MUTUAL_TLS_VARIABLES.length) {
    for (const name of MUTUAL_TLS_VARIABLES.filter((v) => !settings[v]))
      issues.push({
        variable: name,
        reason: `is unset but ${set.join(' and ')} ${set.length === 1 ? 'is' : 'are'} set: SCOREGATE_TLS_CA, SCOREGATE_TLS_CERT and SCOREGATE_TLS_KEY go together (all three or none)`,
      });
    throw new ConfigError(service, issues);
  }
  const ca = settings.SCOREGATE_TLS_CA as string;
  const cert = settings.SCOREGATE_TLS_CERT as string;
  const key = settings.SCOREGATE_TLS_KEY as string;
  for (const name of MUTUAL_TLS_VARIABLES) {
    const problem = pemProblem(settings[name] as string, expected[name]);
    if (problem) issues.push({ variable: name, reason: problem });
  }
  if (issues.length === 0 && !keyMatches(cert, key))
    issues.push({
      variable: 'SCOREGATE_TLS_KEY',
      reason: `${key} is not the private key of the certificate in ${cert} (SCOREGATE_TLS_CERT)`,
    });
  if (issues.length > 0) throw new ConfigError(service, issues);
  const options: TlsOptions = { caFile: ca, certFile: cert, keyFile: key };
  return { server: options, client: options };
}

function keyMatches(certFile: string, keyFile: string): boolean {
  const certificate = new X509Certificate(readFileSync(certFile));
  return certificate.checkPrivateKey(createPrivateKey(readFileSync(keyFile)));
}

/**
 * For a service's entry point, after `loadConfigOrExit`: {@link mutualTls}, or the process stops
 * with the message naming every variable at fault (exit code 78, EX_CONFIG, like any other
 * configuration error).
 */
export function mutualTlsOrExit(
  service: string,
  settings: MutualTlsSettings,
): MutualTls | undefined {
  try {
    return mutualTls(service, settings);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
