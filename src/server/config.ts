/**
 * The proxy's configuration: one JSON Schema (a TypeScript `as const` object) from which json-schema-to-ts
 * derives the type and with which ajv validates, as for policies. Values come from an optional YAML or JSON
 * file (`GPP_CONFIG_FILE`, or `serve --config <file>`) and from `GPP_*` environment variables, which win.
 * Every problem is reported once, in the words of its source: the variable's name, or file:line:column.
 * Secrets may be given as files (`..._FILE`), so they never appear in process listings.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { readPolicySource, toPointer, type PolicySource } from '../policy/source.js';
import { parseKeyring } from '../sanitize/pseudonyms.js';
import { ConsumerKeys } from './consumer-keys.js';
import type { ProxySettings } from './proxy.js';

const TEXT = { type: 'string', minLength: 1 } as const;
const URL_TEXT = { type: 'string', pattern: '^https?://[^\\s]+$' } as const;

export const CONFIG_SCHEMA = {
  type: 'object',
  properties: {
    host: TEXT,
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    publicUrl: URL_TEXT,
    policiesDir: TEXT,
    consumerKeys: TEXT,
    consumerKeysFile: TEXT,
    pseudonymKeys: { type: 'string' },
    pseudonymKeysFile: TEXT,
    sealSecret: TEXT,
    sealSecretFile: TEXT,
    noiseKey: TEXT,
    noiseKeyFile: TEXT,
    tlsCertFile: TEXT,
    tlsKeyFile: TEXT,
    graphUrl: URL_TEXT,
    tokenUrl: URL_TEXT,
    clientId: TEXT,
    clientSecret: TEXT,
    clientSecretFile: TEXT,
    clientAssertionFile: TEXT,
    downloadHosts: { type: 'array', items: URL_TEXT, minItems: 1 },
    snapshotTtlSeconds: { type: 'integer', minimum: 0, maximum: 604_800 },
    rateLimitPerMinute: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    ledgerFile: TEXT,
    historyFile: TEXT,
    policyHistoryFile: TEXT,
    redisUrl: { type: 'string', pattern: '^rediss?://[^\\s]+$' },
    redisPrefix: { type: 'string', pattern: '^[A-Za-z0-9:_-]{1,64}$' },
  },
  required: ['tokenUrl', 'clientId', 'tlsCertFile', 'tlsKeyFile'],
  additionalProperties: false,
} as const;

export type ProxyConfig = FromSchema<typeof CONFIG_SCHEMA>;
type Key = keyof typeof CONFIG_SCHEMA.properties;

/** Each setting's variable, meaning and default; the usage text and the README table say the same. */
export const SETTINGS: readonly { readonly key: Key; readonly env: string; readonly meaning: string; readonly list?: boolean }[] = [
  { key: 'host', env: 'GPP_HOST', meaning: 'listen address (default 0.0.0.0)' },
  { key: 'port', env: 'GPP_PORT', meaning: 'listen port (default 8443)' },
  { key: 'publicUrl', env: 'GPP_PUBLIC_URL', meaning: 'base URL consumers use, for Location and nextLink (default: the listen address)' },
  { key: 'policiesDir', env: 'GPP_POLICIES_DIR', meaning: 'policy directory, hot-reloaded (default policies)' },
  { key: 'consumerKeys', env: 'GPP_CONSUMER_KEYS', meaning: 'consumer-id=sha256:<hex> [expires=<date>] entries (digests of the API keys, never the keys); required' },
  { key: 'consumerKeysFile', env: 'GPP_CONSUMER_KEYS_FILE', meaning: 'or a file holding them' },
  { key: 'pseudonymKeys', env: 'GPP_PSEUDONYM_KEYS', meaning: 'keyId=<base64 secret of 32+ bytes> entries' },
  { key: 'pseudonymKeysFile', env: 'GPP_PSEUDONYM_KEYS_FILE', meaning: 'or a file holding them' },
  { key: 'sealSecret', env: 'GPP_SEAL_SECRET', meaning: 'base64 secret (32+ bytes) for cursors and download links, shared by replicas; required' },
  { key: 'sealSecretFile', env: 'GPP_SEAL_SECRET_FILE', meaning: 'or a file holding it' },
  { key: 'noiseKey', env: 'GPP_NOISE_KEY', meaning: 'base64 key (32+ bytes) of the sticky cohort noise (policies with noise)' },
  { key: 'noiseKeyFile', env: 'GPP_NOISE_KEY_FILE', meaning: 'or a file holding it' },
  { key: 'tlsCertFile', env: 'GPP_TLS_CERT_FILE', meaning: 'PEM certificate the proxy serves HTTPS with; required' },
  { key: 'tlsKeyFile', env: 'GPP_TLS_KEY_FILE', meaning: 'its PEM private key; required' },
  { key: 'graphUrl', env: 'GPP_GRAPH_URL', meaning: 'Graph base URL (default https://graph.microsoft.com; national clouds differ)' },
  { key: 'tokenUrl', env: 'GPP_TOKEN_URL', meaning: 'token endpoint, e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token; required' },
  { key: 'clientId', env: 'GPP_CLIENT_ID', meaning: 'the app registration holding Reports.Read.All; required' },
  { key: 'clientSecret', env: 'GPP_CLIENT_SECRET', meaning: 'its client secret, or:' },
  { key: 'clientSecretFile', env: 'GPP_CLIENT_SECRET_FILE', meaning: 'a file holding the secret, or:' },
  { key: 'clientAssertionFile', env: 'GPP_CLIENT_ASSERTION_FILE', meaning: 'a federated client assertion file (default $AZURE_FEDERATED_TOKEN_FILE): no secret needed' },
  { key: 'downloadHosts', env: 'GPP_DOWNLOAD_HOSTS', meaning: 'comma-separated allowed report download hosts (default https://reports*.office.com/data/)', list: true },
  { key: 'snapshotTtlSeconds', env: 'GPP_SNAPSHOT_TTL_SECONDS', meaning: 'report snapshot lifetime; 0 = off (default 3600)' },
  { key: 'rateLimitPerMinute', env: 'GPP_RATE_LIMIT_PER_MINUTE', meaning: 'requests per consumer per minute before 429 + Retry-After (default 600)' },
  { key: 'ledgerFile', env: 'GPP_BUDGET_LEDGER_FILE', meaning: 'append-only privacy-budget ledger (default data/budget-ledger.jsonl)' },
  { key: 'historyFile', env: 'GPP_SCORE_HISTORY_FILE', meaning: 'the org score history, append-only (default data/score-history.jsonl)' },
  { key: 'policyHistoryFile', env: 'GPP_POLICY_HISTORY_FILE', meaning: 'the hash-chained history of activated policy sets (default: policy-history.jsonl beside the ledger)' },
  { key: 'redisUrl', env: 'GPP_REDIS_URL', meaning: 'redis:// or rediss:// URL: shared state for several replicas instead of the files above' },
  { key: 'redisPrefix', env: 'GPP_REDIS_PREFIX', meaning: 'key prefix in Redis (default gpp)' },
];

/** [variable, meaning] pairs, for `serve`'s usage text and the deploy check. */
export const SERVE_VARIABLES: readonly [string, string][] = [['GPP_CONFIG_FILE', 'a YAML or JSON file with the settings below (camelCase keys); variables win'], ...SETTINGS.map((s) => [s.env, s.meaning] as [string, string])];

const validateConfig = new Ajv({ allErrors: true, strict: true }).compile<ProxyConfig>(CONFIG_SCHEMA);

export type ConfigResult = { ok: true; settings: ProxySettings } | { ok: false; problems: string[] };

function describe(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return `is not a setting (known: ${SETTINGS.map((s) => s.key).join(', ')})`;
    case 'type':
      return `must be ${p.type === 'integer' ? 'a whole number' : `a ${String(p.type)}`}`;
    case 'minimum':
    case 'maximum':
      return `must be ${error.keyword === 'minimum' ? 'at least' : 'at most'} ${String(p.limit)}`;
    case 'pattern':
      return 'must be an http(s) URL';
    default:
      return error.message ?? 'is not valid';
  }
}

/** Reads and checks the configuration; `configFile` overrides GPP_CONFIG_FILE. */
export function loadConfig(env: NodeJS.ProcessEnv, configFile = env.GPP_CONFIG_FILE): ConfigResult {
  const problems: string[] = [];
  let source: PolicySource | undefined;
  const merged: Record<string, unknown> = {};
  const fromEnv = new Set<string>();
  if (configFile !== undefined) {
    try {
      source = readPolicySource(configFile, readFileSync(configFile, 'utf8'));
      if (typeof source.value === 'object' && source.value !== null && !Array.isArray(source.value)) Object.assign(merged, source.value);
      else problems.push(`${configFile}:1:1: the configuration must be a mapping of settings`);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      problems.push(e.code === 'PolicySyntaxError' || e.code === undefined ? e.message : `${configFile}: cannot read it (${e.code})`);
    }
  }
  for (const setting of SETTINGS) {
    const text = env[setting.env];
    if (text === undefined) continue;
    fromEnv.add(setting.key);
    const schema = CONFIG_SCHEMA.properties[setting.key] as { type: string };
    merged[setting.key] = setting.list === true ? text.split(',').map((h) => h.trim()).filter((h) => h.length > 0) : schema.type === 'integer' && /^\d+$/.test(text.trim()) ? Number(text) : text;
  }
  if (merged.clientAssertionFile === undefined && env.AZURE_FEDERATED_TOKEN_FILE !== undefined && merged.clientSecret === undefined && merged.clientSecretFile === undefined) {
    merged.clientAssertionFile = env.AZURE_FEDERATED_TOKEN_FILE;
  }
  const where = (key: string, what: 'key' | 'value' = 'value'): string => {
    const setting = SETTINGS.find((s) => s.key === key);
    if (setting !== undefined && (fromEnv.has(key) || source === undefined || !(key in (source.value as object)))) return setting.env;
    const at = source!.locate(toPointer(key), what);
    return `${source!.file}:${at.line}:${at.column}: '${key}'`;
  };
  // Required settings that may come as a value or as a file: the schema cannot say "one of", so they are checked here.
  for (const [key, fileKey] of [['consumerKeys', 'consumerKeysFile'], ['sealSecret', 'sealSecretFile']] as const) {
    if (merged[key] === undefined && merged[fileKey] === undefined) problems.push(`${where(key)} (or ${where(fileKey)}) is required (${SETTINGS.find((s) => s.key === key)!.meaning.replace(/; required$/, '')}).`);
  }
  if (!validateConfig(merged)) {
    for (const error of validateConfig.errors ?? []) {
      const p = error.params as Record<string, unknown>;
      const key = error.keyword === 'required' ? String(p.missingProperty) : error.keyword === 'additionalProperties' ? String(p.additionalProperty) : error.instancePath.split('/')[1] ?? '';
      problems.push(`${where(key, error.keyword === 'additionalProperties' ? 'key' : 'value')} ${describe(error)}${error.keyword === 'required' ? ` (${SETTINGS.find((s) => s.key === key)?.meaning ?? ''})` : ''}.`);
    }
    return { ok: false, problems };
  }
  if (problems.length > 0) return { ok: false, problems };
  return toSettings(merged, where, problems);
}

/** Cross-setting rules, secret files and parsing into the running proxy's settings. */
function toSettings(config: ProxyConfig, where: (key: string) => string, problems: string[]): ConfigResult {
  const secret = (key: Key, fileKey: Key, required: boolean): string | undefined => {
    const direct = config[key] as string | undefined;
    const file = config[fileKey] as string | undefined;
    if (direct !== undefined && file !== undefined) problems.push(`${where(key)}: give either it or ${where(fileKey)}, not both.`);
    if (file !== undefined) {
      try {
        return readFileSync(file, 'utf8').trim();
      } catch (error) {
        problems.push(`${where(fileKey)}: cannot read '${file}' (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
        return undefined;
      }
    }
    if (direct === undefined && required) problems.push(`${where(key)} (or ${where(fileKey)}) is required.`);
    return direct;
  };
  const attempt = <T>(key: string, f: () => T): T | undefined => {
    try {
      return f();
    } catch (error) {
      problems.push(`${where(key)}: ${(error as Error).message}`);
      return undefined;
    }
  };
  const base64 = (key: Key, text: string | undefined): Buffer | undefined => {
    if (text === undefined) return undefined;
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length < 32) problems.push(`${where(key)} must hold at least 32 bytes (base64).`);
    return bytes;
  };
  const keysText = secret('consumerKeys', 'consumerKeysFile', false);
  const consumerKeys = keysText === undefined ? undefined : attempt('consumerKeys', () => ConsumerKeys.parse(keysText));
  const pseudonymText = secret('pseudonymKeys', 'pseudonymKeysFile', false);
  const pseudonymKeys = attempt('pseudonymKeys', () => parseKeyring(pseudonymText ?? ''));
  const sealSecret = base64('sealSecret', secret('sealSecret', 'sealSecretFile', false));
  const noiseKey = base64('noiseKey', secret('noiseKey', 'noiseKeyFile', false));
  const tls = attempt('tlsCertFile', () => ({ cert: readFileSync(config.tlsCertFile, 'utf8'), key: readFileSync(config.tlsKeyFile, 'utf8') }));
  const clientSecret = secret('clientSecret', 'clientSecretFile', false);
  if ((clientSecret === undefined) === (config.clientAssertionFile === undefined)) {
    problems.push(`give exactly one of ${where('clientSecret')} (or ${where('clientSecretFile')}) and ${where('clientAssertionFile')}.`);
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      host: config.host ?? '0.0.0.0',
      port: config.port ?? 8443,
      ...(config.publicUrl !== undefined ? { publicUrl: config.publicUrl.replace(/\/+$/, '') } : {}),
      policiesDir: config.policiesDir ?? 'policies',
      consumerKeys: consumerKeys!,
      pseudonymKeys: pseudonymKeys!,
      sealSecret: sealSecret!,
      ...(noiseKey !== undefined ? { noiseKey } : {}),
      tls: tls!,
      snapshotTtlSeconds: config.snapshotTtlSeconds ?? 3600,
      rateLimitPerMinute: config.rateLimitPerMinute ?? 600,
      ledgerFile: config.ledgerFile ?? 'data/budget-ledger.jsonl',
      historyFile: config.historyFile ?? 'data/score-history.jsonl',
      ...(config.policyHistoryFile !== undefined ? { policyHistoryFile: config.policyHistoryFile } : {}),
      ...(config.redisUrl !== undefined ? { redisUrl: config.redisUrl } : {}),
      ...(config.redisPrefix !== undefined ? { redisPrefix: config.redisPrefix } : {}),
      graph: {
        graphUrl: config.graphUrl ?? 'https://graph.microsoft.com',
        tokenUrl: config.tokenUrl,
        clientId: config.clientId,
        ...(clientSecret !== undefined ? { clientSecret } : { clientAssertionFile: config.clientAssertionFile! }),
        downloadHosts: config.downloadHosts ?? ['https://reports*.office.com/data/'],
      },
    },
  };
}
