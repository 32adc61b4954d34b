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
import { PolicySyntaxError, readPolicySource, toPointer, type PolicySource } from '../policy/source.js';
import { parseKeyring } from '../sanitize/pseudonyms.js';
import { authorityOf, CREDENTIAL_KINDS, type CredentialKind, type EntraCredential } from '../graph/token.js';
import { ConsumerKeys } from './consumer-keys.js';
import type { ProxySettings } from './proxy.js';

const TEXT = { type: 'string', minLength: 1 } as const;
const URL_TEXT = { type: 'string', pattern: '^https?://[^\\s]+$' } as const;

/**
 * Every setting once: its type and bounds, its variable (`env`), its meaning (`description`) and its default
 * (`default`, filled in by ajv's useDefaults). The usage text of `serve` is generated from it (`SERVE_VARIABLES`).
 */
export const CONFIG_SCHEMA = {
  type: 'object',
  properties: {
    host: { ...TEXT, env: 'GPP_HOST', description: 'listen address', default: '0.0.0.0' },
    port: { type: 'integer', minimum: 0, maximum: 65535, env: 'GPP_PORT', description: 'listen port', default: 8443 },
    publicUrl: { ...URL_TEXT, env: 'GPP_PUBLIC_URL', description: 'base URL consumers use, for Location and nextLink (default: the listen address)' },
    policiesDir: { ...TEXT, env: 'GPP_POLICIES_DIR', description: 'policy directory, hot-reloaded', default: 'policies' },
    consumerKeys: { ...TEXT, env: 'GPP_CONSUMER_KEYS', description: 'consumer-id=sha256:<hex> [expires=<date>] entries (digests of the API keys, never the keys); required' },
    consumerKeysFile: { ...TEXT, env: 'GPP_CONSUMER_KEYS_FILE', description: 'or a file holding them' },
    pseudonymKeys: { type: 'string', env: 'GPP_PSEUDONYM_KEYS', description: 'keyId=<base64 secret of 32+ bytes> entries' },
    pseudonymKeysFile: { ...TEXT, env: 'GPP_PSEUDONYM_KEYS_FILE', description: 'or a file holding them' },
    sealSecret: { ...TEXT, env: 'GPP_SEAL_SECRET', description: 'base64 secret (32+ bytes) for cursors and download links, shared by replicas; required' },
    sealSecretFile: { ...TEXT, env: 'GPP_SEAL_SECRET_FILE', description: 'or a file holding it' },
    noiseKey: { ...TEXT, env: 'GPP_NOISE_KEY', description: 'base64 key (32+ bytes) of the sticky cohort noise (policies with noise)' },
    noiseKeyFile: { ...TEXT, env: 'GPP_NOISE_KEY_FILE', description: 'or a file holding it' },
    tlsCertFile: { ...TEXT, env: 'GPP_TLS_CERT_FILE', description: 'PEM certificate the proxy serves HTTPS with; required' },
    tlsKeyFile: { ...TEXT, env: 'GPP_TLS_KEY_FILE', description: 'its PEM private key; required' },
    graphUrl: { ...URL_TEXT, env: 'GPP_GRAPH_URL', description: 'Graph base URL; national clouds differ', default: 'https://graph.microsoft.com' },
    credential: { type: 'string', enum: ['secret', 'certificate', 'workload-identity', 'managed-identity'], env: 'GPP_CREDENTIAL', description: 'secret, certificate, workload-identity or managed-identity (default: the one whose setting below is given)' },
    tokenUrl: { ...URL_TEXT, env: 'GPP_TOKEN_URL', description: 'Entra token endpoint, https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token (national clouds differ); all but managed-identity' },
    clientId: { ...TEXT, env: 'GPP_CLIENT_ID', description: 'the app registration holding Reports.Read.All (default $AZURE_CLIENT_ID); with managed-identity, a user-assigned identity' },
    clientSecret: { ...TEXT, env: 'GPP_CLIENT_SECRET', description: 'secret: the client secret, or:' },
    clientSecretFile: { ...TEXT, env: 'GPP_CLIENT_SECRET_FILE', description: 'a file holding the secret' },
    clientCertificateFile: { ...TEXT, env: 'GPP_CLIENT_CERTIFICATE_FILE', description: 'certificate: a PEM file with the private key and the certificate registered on the app' },
    clientAssertionFile: { ...TEXT, env: 'GPP_CLIENT_ASSERTION_FILE', description: 'workload-identity: the federated token file (default $AZURE_FEDERATED_TOKEN_FILE); no secret exists' },
    authorityCaFile: { ...TEXT, env: 'GPP_AUTHORITY_CA_FILE', description: "an extra CA (PEM) for the token endpoint's certificate (a private cloud); NODE_EXTRA_CA_CERTS works too" },
    downloadHosts: { type: 'array', items: URL_TEXT, minItems: 1, env: 'GPP_DOWNLOAD_HOSTS', description: 'comma-separated allowed report download hosts', default: ['https://reports*.office.com/data/'] },
    snapshotTtlSeconds: { type: 'integer', minimum: 0, maximum: 604_800, env: 'GPP_SNAPSHOT_TTL_SECONDS', description: 'report snapshot lifetime; 0 = off', default: 3600 },
    validationThreads: { type: 'integer', minimum: 0, maximum: 16, env: 'GPP_VALIDATION_THREADS', description: "worker threads that check fetched CSV reports (and read the score's facts); 0 = on the event loop", default: 0 },
    rateLimitPerMinute: { type: 'integer', minimum: 1, maximum: 1_000_000, env: 'GPP_RATE_LIMIT_PER_MINUTE', description: 'requests per consumer per minute before 429 + Retry-After', default: 600 },
    organisationEpsilonPerYear: {
      type: 'number', exclusiveMinimum: 0, maximum: 1e6, env: 'GPP_ORGANISATION_EPSILON_PER_YEAR',
      description: "the organisation's yearly privacy limit (epsilon per person across all consumers): past it no fresh noisy release is made for anyone, the last one is served stale (default: the live policy set's planned total, what policy check prints)",
    },
    ledgerFile: { ...TEXT, env: 'GPP_BUDGET_LEDGER_FILE', description: 'append-only privacy-budget ledger', default: 'data/budget-ledger.jsonl' },
    historyFile: { ...TEXT, env: 'GPP_SCORE_HISTORY_FILE', description: 'the org score history, append-only', default: 'data/score-history.jsonl' },
    policyHistoryFile: { ...TEXT, env: 'GPP_POLICY_HISTORY_FILE', description: 'the hash-chained history of activated policy sets (default: policy-history.jsonl beside the ledger)' },
    redisUrl: { type: 'string', pattern: '^rediss?://[^\\s]+$', env: 'GPP_REDIS_URL', description: 'redis:// or rediss:// URL: shared state for several replicas instead of the files above' },
    redisPrefix: { type: 'string', pattern: '^[A-Za-z0-9:_-]{1,64}$', env: 'GPP_REDIS_PREFIX', description: 'key prefix in Redis', default: 'gpp' },
    metricsToken: { type: 'string', minLength: 16, env: 'GPP_METRICS_TOKEN', description: 'bearer token (16+ characters) Prometheus sends for /metrics; without it there is no /metrics' },
    metricsTokenFile: { ...TEXT, env: 'GPP_METRICS_TOKEN_FILE', description: 'or a file holding it' },
  },
  required: ['tlsCertFile', 'tlsKeyFile'],
  additionalProperties: false,
} as const;

/** The settings as validated, defaults filled in. */
export type ProxyConfig = FromSchema<typeof CONFIG_SCHEMA>;
type Key = keyof typeof CONFIG_SCHEMA.properties;
interface SettingSchema {
  readonly type: string;
  readonly env: string;
  readonly description: string;
  readonly default?: unknown;
}

/** A setting's meaning with its default, as the usage text says it: "listen port (default 8443)". */
function meaningOf(schema: SettingSchema): string {
  if (schema.default === undefined) return schema.description;
  return `${schema.description} (default ${Array.isArray(schema.default) ? schema.default.join(',') : String(schema.default)})`;
}

/** Each setting's variable and meaning (with its default), generated from the schema. */
export const SETTINGS: readonly { readonly key: Key; readonly env: string; readonly meaning: string; readonly list: boolean }[] = (
  Object.entries(CONFIG_SCHEMA.properties) as [Key, SettingSchema][]
).map(([key, schema]) => ({ key, env: schema.env, meaning: meaningOf(schema), list: schema.type === 'array' }));

/** [variable, meaning] pairs, for `serve`'s usage text and the deploy check. */
export const SERVE_VARIABLES: readonly [string, string][] = [['GPP_CONFIG_FILE', 'a YAML or JSON file with the settings below (camelCase keys); variables win'], ...SETTINGS.map((s) => [s.env, s.meaning] as [string, string])];

// `env` is this schema's own annotation (the setting's variable); useDefaults fills in every `default`.
const validateConfig = new Ajv({ allErrors: true, strict: true, useDefaults: true, keywords: ['env'] }).compile<ProxyConfig>(CONFIG_SCHEMA);

export type ConfigResult = { ok: true; settings: ProxySettings } | { ok: false; problems: string[] };

/** GPP_SNAPSHOT_TTL_SECONDS -> snapshotTtlSeconds: how a variable's name reads as a file key. */
const variableCamelCase = (env: string) => env.replace(/^GPP_/, '').toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function describe(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties': {
      // Two keys are not their variable's camelCase (GPP_BUDGET_LEDGER_FILE is ledgerFile): say so.
      const name = String(p.additionalProperty).toLowerCase();
      const meant = SETTINGS.find((s) => variableCamelCase(s.env).toLowerCase() === name);
      if (meant !== undefined) return `is not a setting: ${meant.env} is '${meant.key}' in a file`;
      return `is not a setting (known: ${SETTINGS.map((s) => s.key).join(', ')})`;
    }
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
      problems.push(error instanceof PolicySyntaxError || e.code === undefined ? e.message : `${configFile}: cannot read it (${e.code})`);
    }
  }
  for (const setting of SETTINGS) {
    const text = env[setting.env];
    if (text === undefined) continue;
    fromEnv.add(setting.key);
    const schema = CONFIG_SCHEMA.properties[setting.key] as { type: string };
    merged[setting.key] = setting.list ? text.split(',').map((h) => h.trim()).filter((h) => h.length > 0) : schema.type === 'integer' && /^\d+$/.test(text.trim()) ? Number(text) : schema.type === 'number' && /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
  }
  // Azure's workload-identity webhook injects these; they name the same things as our settings.
  const material = ['clientSecret', 'clientSecretFile', 'clientCertificateFile', 'clientAssertionFile'].some((k) => merged[k] !== undefined);
  if (!material && env.AZURE_FEDERATED_TOKEN_FILE !== undefined && (merged.credential === undefined || merged.credential === 'workload-identity')) {
    merged.clientAssertionFile = env.AZURE_FEDERATED_TOKEN_FILE;
  }
  if (merged.clientId === undefined && env.AZURE_CLIENT_ID !== undefined && merged.credential !== 'managed-identity') merged.clientId = env.AZURE_CLIENT_ID;
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
  if (merged.credential !== 'managed-identity') {
    for (const key of ['tokenUrl', 'clientId'] as const) {
      if (merged[key] === undefined) problems.push(`${where(key)} is required (${SETTINGS.find((s) => s.key === key)!.meaning}).`);
    }
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
  // Each file under its own setting: an unreadable key file is GPP_TLS_KEY_FILE's problem, not the certificate's.
  const cert = attempt('tlsCertFile', () => readFileSync(config.tlsCertFile, 'utf8'));
  const key = attempt('tlsKeyFile', () => readFileSync(config.tlsKeyFile, 'utf8'));
  const tls = cert !== undefined && key !== undefined ? { cert, key } : undefined;
  const metricsToken = secret('metricsToken', 'metricsTokenFile', false);
  if (metricsToken !== undefined && metricsToken.length < 16) problems.push(`${where('metricsTokenFile')} must hold at least 16 characters.`);
  const credential = entraCredential(config, where, problems, secret('clientSecret', 'clientSecretFile', false));
  let authorityCa: string | undefined;
  if (config.authorityCaFile !== undefined) authorityCa = attempt('authorityCaFile', () => readFileSync(config.authorityCaFile!, 'utf8'));
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      host: config.host,
      port: config.port,
      ...(config.publicUrl !== undefined ? { publicUrl: config.publicUrl.replace(/\/+$/, '') } : {}),
      policiesDir: config.policiesDir,
      consumerKeys: consumerKeys!,
      pseudonymKeys: pseudonymKeys!,
      sealSecret: sealSecret!,
      ...(noiseKey !== undefined ? { noiseKey } : {}),
      tls: tls!,
      snapshotTtlSeconds: config.snapshotTtlSeconds,
      validationThreads: config.validationThreads,
      rateLimitPerMinute: config.rateLimitPerMinute,
      ledgerFile: config.ledgerFile,
      ...(config.organisationEpsilonPerYear !== undefined ? { organisationEpsilonPerYear: config.organisationEpsilonPerYear } : {}),
      historyFile: config.historyFile,
      ...(config.policyHistoryFile !== undefined ? { policyHistoryFile: config.policyHistoryFile } : {}),
      ...(config.redisUrl !== undefined ? { redisUrl: config.redisUrl } : {}),
      redisPrefix: config.redisPrefix,
      ...(metricsToken !== undefined ? { metricsToken } : {}),
      graph: {
        graphUrl: config.graphUrl,
        credential: credential!,
        ...(authorityCa !== undefined ? { authorityCa } : {}),
        downloadHosts: config.downloadHosts,
      },
    },
  };
}

/**
 * The Entra credential the settings describe: the kind named by `credential`, or the one whose material is
 * given (exactly one). Problems name the settings to change.
 */
function entraCredential(config: ProxyConfig, where: (key: string) => string, problems: string[], clientSecret: string | undefined): EntraCredential | undefined {
  const given: [CredentialKind, boolean][] = [
    ['secret', clientSecret !== undefined],
    ['certificate', config.clientCertificateFile !== undefined],
    ['workload-identity', config.clientAssertionFile !== undefined],
  ];
  const present = given.filter(([, has]) => has).map(([kind]) => kind);
  const kind: CredentialKind | undefined = (config.credential as CredentialKind | undefined) ?? (present.length === 1 ? present[0] : undefined);
  const materialOf: Record<CredentialKind, string> = {
    secret: `${where('clientSecret')} (or ${where('clientSecretFile')})`,
    certificate: where('clientCertificateFile'),
    'workload-identity': `${where('clientAssertionFile')} (or AZURE_FEDERATED_TOKEN_FILE)`,
    'managed-identity': `${where('credential')}=managed-identity`,
  };
  if (kind === undefined) {
    problems.push(present.length === 0
      ? `a Graph credential is required: give ${materialOf.secret}, ${materialOf.certificate} or ${materialOf['workload-identity']}, or set ${materialOf['managed-identity']}.`
      : `give exactly one Graph credential, not ${present.map((k) => materialOf[k]).join(' and ')} (or name the one to use with ${where('credential')}: ${CREDENTIAL_KINDS.join(', ')}).`);
    return undefined;
  }
  for (const other of present.filter((k) => k !== kind)) problems.push(`${materialOf[other]} is set, but ${where('credential')} is ${kind}; remove it.`);
  if (kind === 'managed-identity') return config.clientId !== undefined ? { kind, clientId: config.clientId } : { kind };
  if (!present.includes(kind)) problems.push(`${where('credential')} is ${kind}, which needs ${materialOf[kind]}.`);
  if (config.clientId === undefined) problems.push(`${where('clientId')} is required (the app registration holding Reports.Read.All).`);
  if (config.tokenUrl === undefined) problems.push(`${where('tokenUrl')} is required (e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token).`);
  else if (authorityOf(config.tokenUrl) === undefined) problems.push(`${where('tokenUrl')} must be https://<host>/<tenant>/oauth2/v2.0/token, not '${config.tokenUrl}'.`);
  if (problems.length > 0 || config.clientId === undefined || config.tokenUrl === undefined) return undefined;
  const base = { tokenUrl: config.tokenUrl, clientId: config.clientId };
  if (kind === 'secret') return { kind, ...base, clientSecret: clientSecret! };
  if (kind === 'workload-identity') return { kind, ...base, tokenFile: config.clientAssertionFile! };
  try {
    const certificatePem = readFileSync(config.clientCertificateFile!, 'utf8');
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(certificatePem) || !certificatePem.includes('-----BEGIN CERTIFICATE-----')) {
      problems.push(`${where('clientCertificateFile')}: '${config.clientCertificateFile}' must hold the PEM private key and the certificate.`);
      return undefined;
    }
    return { kind, ...base, certificatePem };
  } catch (error) {
    problems.push(`${where('clientCertificateFile')}: cannot read '${config.clientCertificateFile}' (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
    return undefined;
  }
}
