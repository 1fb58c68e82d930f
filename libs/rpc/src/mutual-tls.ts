import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError, env, exitOnConfigError, type ConfigIssue } from '@scoregate/config';
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

/** What each variable must name: the CA, a certificate that serves and calls, its key. */
type PemRole = 'ca' | 'certificate' | 'key';
const roleOf: Record<MutualTlsVariable, PemRole> = {
  SCOREGATE_TLS_CA: 'ca',
  SCOREGATE_TLS_CERT: 'certificate',
  SCOREGATE_TLS_KEY: 'key',
};

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** Why `file` cannot serve in `role`, or undefined when it can. */
function pemProblem(file: string, role: PemRole): string | undefined {
  let text: string;
  try {
    if (statSync(file).isDirectory()) return 'is a directory, not a PEM file';
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES') return 'cannot be read (permission denied)';
    return `cannot be read (${code ?? (error as Error).message})`;
  }
  if (role === 'key') {
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return 'holds no PEM private key';
    try {
      createPrivateKey(text);
    } catch (error) {
      return `holds an invalid private key (${(error as Error).message})`;
    }
    return undefined;
  }
  if (!/-----BEGIN CERTIFICATE-----/.test(text)) return 'holds no PEM certificate';
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(text);
  } catch (error) {
    return `holds an invalid certificate (${(error as Error).message})`;
  }
  if (role === 'ca')
    return certificate.ca ? undefined : 'is not a CA certificate (basicConstraints CA:FALSE)';
  // One certificate both serves and calls the other services.
  const usages = certificate.keyUsage;
  if (usages && !(usages.includes(SERVER_AUTH) && usages.includes(CLIENT_AUTH)))
    return (
      'must allow both server and client authentication (extendedKeyUsage ' +
      'serverAuth,clientAuth): this process serves and calls with it'
    );
  return undefined;
}

const shown = (file: string) => `(got "${file}")`;

function pemFile(role: PemRole) {
  return env.optionalString().superRefine((file, context) => {
    const problem = file === undefined ? undefined : pemProblem(file, role);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });
}

/**
 * Schema fragment for a service's configuration (spread it into the schema given to
 * `loadConfigOrExit`): each variable, when set, must name a readable PEM file of the right kind
 * (a CA certificate; a certificate for server and client authentication; a private key).
 * That all three go together is checked by {@link mutualTls} / {@link mutualTlsOrExit}.
 */
export const mutualTlsEnv = {
  /** PEM CA certificate: the only CA trusted, for servers and for clients. */
  SCOREGATE_TLS_CA: pemFile('ca'),
  /** PEM certificate (chain) of this process, valid for server and client authentication. */
  SCOREGATE_TLS_CERT: pemFile('certificate'),
  /** PEM private key of SCOREGATE_TLS_CERT. */
  SCOREGATE_TLS_KEY: pemFile('key'),
};

/**
 * Turns the three file paths into server and client TLS options; undefined when none is set.
 * Throws a {@link ConfigError} naming every variable at fault: unset while another is set, a file
 * that cannot be read or holds no PEM of the right kind, a CA file that is no CA, a certificate
 * not valid for both server and client authentication, a key that is not the certificate's.
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
    const file = settings[name] as string;
    const problem = pemProblem(file, roleOf[name]);
    if (problem) issues.push({ variable: name, reason: `${problem} ${shown(file)}` });
  }
  if (issues.length === 0 && !keyMatches(cert, key))
    issues.push({
      variable: 'SCOREGATE_TLS_KEY',
      reason: `is not the private key of the certificate in SCOREGATE_TLS_CERT ${shown(key)}`,
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
  return exitOnConfigError(() => mutualTls(service, settings));
}
