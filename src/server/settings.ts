/**
 * `serve` settings from environment variables, each problem reported in one clear line (the operations issue
 * moves this onto a validated configuration schema). Secrets come from the environment or from files, never
 * from arguments, so they do not show in process listings.
 */
import { readFileSync } from 'node:fs';
import { parseKeyring } from '../sanitize/pseudonyms.js';
import { ConsumerKeys } from './consumer-keys.js';
import type { ProxySettings } from './proxy.js';

export type SettingsResult = { ok: true; settings: ProxySettings } | { ok: false; problems: string[] };

/** Every variable `serve` reads, with its meaning (README's configuration table is generated from the same text). */
export const SERVE_VARIABLES: readonly [string, string][] = [
  ['GPP_HOST', 'listen address (default 0.0.0.0)'],
  ['GPP_PORT', 'listen port (default 8443)'],
  ['GPP_PUBLIC_URL', 'base URL consumers use, for Location and nextLink (default: the listen address)'],
  ['GPP_POLICIES_DIR', 'policy directory, hot-reloaded (default policies)'],
  ['GPP_CONSUMER_KEYS / _FILE', 'consumer-id=sha256:<hex> entries (digests of the API keys, never the keys)'],
  ['GPP_PSEUDONYM_KEYS / _FILE', 'keyId=<base64 secret of 32+ bytes> entries'],
  ['GPP_SEAL_SECRET / _FILE', 'base64 secret of 32+ bytes for cursors and download links (shared by replicas)'],
  ['GPP_TLS_CERT_FILE, GPP_TLS_KEY_FILE', 'PEM certificate and key the proxy serves HTTPS with'],
  ['GPP_GRAPH_URL', 'Graph base URL (default https://graph.microsoft.com)'],
  ['GPP_TOKEN_URL', 'token endpoint, e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token'],
  ['GPP_CLIENT_ID', 'the app registration holding Reports.Read.All'],
  ['GPP_CLIENT_SECRET / _FILE', 'client secret, or instead:'],
  ['GPP_CLIENT_ASSERTION_FILE', 'a federated client assertion file (default $AZURE_FEDERATED_TOKEN_FILE)'],
  ['GPP_DOWNLOAD_HOSTS', 'comma-separated allowed report download hosts (default https://reports*.office.com/data/)'],
  ['GPP_SNAPSHOT_TTL_SECONDS', 'report snapshot lifetime; 0 = off (default 3600)'],
  ['GPP_NOISE_KEY / _FILE', 'base64 key (32+ bytes) of the sticky cohort noise (policies with noise)'],
  ['GPP_BUDGET_LEDGER_FILE', 'append-only privacy-budget ledger (default data/budget-ledger.jsonl)'],
  ['GPP_RATE_LIMIT_PER_MINUTE', 'requests per consumer per minute, answered 429 + Retry-After beyond (default 600)'],
  ['GPP_SCORE_HISTORY_FILE', 'the org score history, append-only (default data/score-history.jsonl)'],
];

export function settingsFromEnv(env: NodeJS.ProcessEnv): SettingsResult {
  const problems: string[] = [];
  /** A value given directly or as NAME_FILE (a path to read). */
  const secret = (name: string, required: boolean): string | undefined => {
    const direct = env[name];
    const file = env[`${name}_FILE`];
    if (direct !== undefined && file !== undefined) problems.push(`${name}: give either ${name} or ${name}_FILE, not both.`);
    if (file !== undefined) {
      try {
        return readFileSync(file, 'utf8').trim();
      } catch (error) {
        problems.push(`${name}_FILE: cannot read '${file}' (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
        return undefined;
      }
    }
    if (direct === undefined && required) problems.push(`${name} (or ${name}_FILE) is required.`);
    return direct;
  };
  const attempt = <T>(name: string, f: () => T): T | undefined => {
    try {
      return f();
    } catch (error) {
      problems.push(`${name}: ${(error as Error).message}`);
      return undefined;
    }
  };
  const port = Number(env.GPP_PORT ?? 8443);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`GPP_PORT must be a port number, not '${env.GPP_PORT}'.`);
  const ttl = Number(env.GPP_SNAPSHOT_TTL_SECONDS ?? 3600);
  if (!Number.isInteger(ttl) || ttl < 0) problems.push(`GPP_SNAPSHOT_TTL_SECONDS must be a whole number of seconds, not '${env.GPP_SNAPSHOT_TTL_SECONDS}'.`);
  const keysText = secret('GPP_CONSUMER_KEYS', true);
  const consumerKeys = keysText === undefined ? undefined : attempt('GPP_CONSUMER_KEYS', () => ConsumerKeys.parse(keysText));
  const pseudonymText = secret('GPP_PSEUDONYM_KEYS', false);
  const pseudonymKeys = attempt('GPP_PSEUDONYM_KEYS', () => parseKeyring(pseudonymText ?? ''));
  const sealText = secret('GPP_SEAL_SECRET', true);
  const sealSecret = sealText === undefined ? undefined : Buffer.from(sealText, 'base64');
  if (sealSecret !== undefined && sealSecret.length < 32) problems.push('GPP_SEAL_SECRET must hold at least 32 bytes (base64).');
  const rate = Number(env.GPP_RATE_LIMIT_PER_MINUTE ?? 600);
  if (!Number.isInteger(rate) || rate < 1) problems.push(`GPP_RATE_LIMIT_PER_MINUTE must be a whole number above 0, not '${env.GPP_RATE_LIMIT_PER_MINUTE}'.`);
  const noiseText = secret('GPP_NOISE_KEY', false);
  const noiseKey = noiseText === undefined ? undefined : Buffer.from(noiseText, 'base64');
  if (noiseKey !== undefined && noiseKey.length < 32) problems.push('GPP_NOISE_KEY must hold at least 32 bytes (base64).');
  const certFile = env.GPP_TLS_CERT_FILE;
  const keyFile = env.GPP_TLS_KEY_FILE;
  let tls: ProxySettings['tls'] | undefined;
  if (certFile === undefined || keyFile === undefined) problems.push('GPP_TLS_CERT_FILE and GPP_TLS_KEY_FILE are required: the proxy serves HTTPS only.');
  else tls = attempt('GPP_TLS_CERT_FILE/GPP_TLS_KEY_FILE', () => ({ cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') }));
  const tokenUrl = env.GPP_TOKEN_URL;
  if (tokenUrl === undefined) problems.push('GPP_TOKEN_URL is required (the Entra ID token endpoint of your tenant).');
  const clientId = env.GPP_CLIENT_ID;
  if (clientId === undefined) problems.push('GPP_CLIENT_ID is required.');
  const clientSecret = secret('GPP_CLIENT_SECRET', false);
  const assertionFile = env.GPP_CLIENT_ASSERTION_FILE ?? env.AZURE_FEDERATED_TOKEN_FILE;
  if ((clientSecret === undefined) === (assertionFile === undefined)) problems.push('give exactly one of GPP_CLIENT_SECRET(_FILE) or GPP_CLIENT_ASSERTION_FILE.');
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      host: env.GPP_HOST ?? '0.0.0.0',
      port,
      ...(env.GPP_PUBLIC_URL !== undefined ? { publicUrl: env.GPP_PUBLIC_URL.replace(/\/+$/, '') } : {}),
      policiesDir: env.GPP_POLICIES_DIR ?? 'policies',
      consumerKeys: consumerKeys!,
      pseudonymKeys: pseudonymKeys!,
      sealSecret: sealSecret!,
      tls: tls!,
      snapshotTtlSeconds: ttl,
      rateLimitPerMinute: rate,
      ...(noiseKey !== undefined ? { noiseKey } : {}),
      ledgerFile: env.GPP_BUDGET_LEDGER_FILE ?? 'data/budget-ledger.jsonl',
      historyFile: env.GPP_SCORE_HISTORY_FILE ?? 'data/score-history.jsonl',
      graph: {
        graphUrl: env.GPP_GRAPH_URL ?? 'https://graph.microsoft.com',
        tokenUrl: tokenUrl!,
        clientId: clientId!,
        ...(clientSecret !== undefined ? { clientSecret } : { clientAssertionFile: assertionFile! }),
        downloadHosts: (env.GPP_DOWNLOAD_HOSTS ?? 'https://reports*.office.com/data/').split(',').map((h) => h.trim()).filter((h) => h.length > 0),
      },
    },
  };
}
