import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/server/config.js';
import { hashConsumerKey } from '../../src/server/consumer-keys.js';

async function files() {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-config-'));
  await writeFile(join(dir, 'cert.pem'), 'CERT');
  await writeFile(join(dir, 'key.pem'), 'KEY');
  await writeFile(join(dir, 'seal'), Buffer.alloc(32, 1).toString('base64'));
  return dir;
}

const base = (dir: string): NodeJS.ProcessEnv => ({
  GPP_CONSUMER_KEYS: `tool=sha256:${hashConsumerKey('k')}`, GPP_SEAL_SECRET_FILE: join(dir, 'seal'), GPP_TLS_CERT_FILE: join(dir, 'cert.pem'),
  GPP_TLS_KEY_FILE: join(dir, 'key.pem'), GPP_TOKEN_URL: 'https://login.example/t/oauth2/v2.0/token', GPP_CLIENT_ID: 'app', GPP_CLIENT_SECRET: 's',
});

t.test('a valid configuration from variables, with defaults', async (t) => {
  const dir = await files();
  const result = loadConfig(base(dir));
  t.ok(result.ok);
  if (!result.ok) return;
  t.equal(result.settings.port, 8443);
  t.equal(result.settings.snapshotTtlSeconds, 3600);
  t.same(result.settings.graph.downloadHosts, ['https://reports*.office.com/data/']);
  t.equal(result.settings.consumerKeys.consumerFor('k'), 'tool');
  t.equal(result.settings.sealSecret.length, 32);
});

t.test('a YAML file with variables on top; file problems are placed at file:line:column', async (t) => {
  const dir = await files();
  const file = join(dir, 'proxy.yaml');
  await writeFile(file, `port: 9443\ngraphUrl: https://graph.microsoft.us\ndownloadHosts: [https://reports.office.us/data/]\nrateLimitPerMinute: 50\n`);
  const good = loadConfig({ ...base(dir), GPP_RATE_LIMIT_PER_MINUTE: '70' }, file);
  t.ok(good.ok);
  if (good.ok) {
    t.equal(good.settings.port, 9443);
    t.equal(good.settings.graph.graphUrl, 'https://graph.microsoft.us');
    t.equal(good.settings.rateLimitPerMinute, 70, 'the variable wins over the file');
  }
  await writeFile(file, `port: many\nsnapshotTTL: 5\ngraphUrl: ftp://x\n`);
  const bad = loadConfig(base(dir), file);
  t.notOk(bad.ok);
  if (!bad.ok) {
    t.match(bad.problems, [/proxy\.yaml:2:1: 'snapshotTTL' is not a setting/, /proxy\.yaml:1:7: 'port' must be a whole number/, /proxy\.yaml:3:11: 'graphUrl' must be an http\(s\) URL/]);
    t.equal(bad.problems.length, 3);
  }
});

t.test('variable problems are named by the variable, every one at once', async (t) => {
  const dir = await files();
  const result = loadConfig({ GPP_PORT: 'eighty', GPP_SNAPSHOT_TTL_SECONDS: '-1', GPP_TLS_CERT_FILE: join(dir, 'cert.pem') });
  t.notOk(result.ok);
  if (result.ok) return;
  const text = result.problems.join('\n');
  for (const expected of [/GPP_PORT must be a whole number/, /GPP_SNAPSHOT_TTL_SECONDS must be a whole number/, /GPP_CONSUMER_KEYS \(or GPP_CONSUMER_KEYS_FILE\) is required/, /GPP_SEAL_SECRET \(or GPP_SEAL_SECRET_FILE\) is required/, /GPP_TOKEN_URL is required/, /GPP_CLIENT_ID is required/, /GPP_TLS_KEY_FILE is required/]) {
    t.match(text, expected);
  }
});

t.test('rules across settings: value or file, not both; readable files; long enough secrets; one client credential', async (t) => {
  const dir = await files();
  const both = loadConfig({ ...base(dir), GPP_SEAL_SECRET: Buffer.alloc(32).toString('base64') });
  t.match(both.ok ? [] : both.problems, [/GPP_SEAL_SECRET: give either it or GPP_SEAL_SECRET_FILE, not both/]);
  const unreadable = loadConfig({ ...base(dir), GPP_SEAL_SECRET_FILE: join(dir, 'missing') });
  t.match(unreadable.ok ? [] : unreadable.problems, [/GPP_SEAL_SECRET_FILE: cannot read .* \(ENOENT\)/]);
  const short = loadConfig({ ...base(dir), GPP_NOISE_KEY: 'c2hvcnQ=' });
  t.match(short.ok ? [] : short.problems, [/GPP_NOISE_KEY must hold at least 32 bytes/]);
  const two = loadConfig({ ...base(dir), GPP_CLIENT_ASSERTION_FILE: '/var/run/token' });
  t.match(two.ok ? [] : two.problems, [/give exactly one Graph credential, not GPP_CLIENT_SECRET \(or GPP_CLIENT_SECRET_FILE\) and GPP_CLIENT_ASSERTION_FILE/]);
  const federated = loadConfig({ ...base(dir), GPP_CLIENT_SECRET: undefined, AZURE_FEDERATED_TOKEN_FILE: '/var/run/azure/token' });
  t.match(federated.ok ? federated.settings.graph.credential : {}, { kind: 'workload-identity', tokenFile: '/var/run/azure/token' }, 'workload identity: no secret needed');
});

t.test('the Graph credential: chosen by GPP_CREDENTIAL or by the one setting given, each with what it needs', async (t) => {
  const dir = await files();
  const pem = join(dir, 'client.pem');
  await writeFile(pem, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  const noSecret = { ...base(dir), GPP_CLIENT_SECRET: undefined };
  const kindOf = (env: NodeJS.ProcessEnv) => {
    const r = loadConfig(env);
    return r.ok ? r.settings.graph.credential : r.problems;
  };
  t.match(kindOf(base(dir)), { kind: 'secret', clientSecret: 's', tokenUrl: 'https://login.example/t/oauth2/v2.0/token', clientId: 'app' });
  t.match(kindOf({ ...noSecret, GPP_CLIENT_CERTIFICATE_FILE: pem }), { kind: 'certificate', certificatePem: /BEGIN CERTIFICATE/ });
  t.match(kindOf({ ...noSecret, GPP_CLIENT_ASSERTION_FILE: '/var/run/token' }), { kind: 'workload-identity', tokenFile: '/var/run/token' });
  t.same(kindOf({ ...noSecret, GPP_CREDENTIAL: 'managed-identity', GPP_TOKEN_URL: undefined, GPP_CLIENT_ID: undefined }), { kind: 'managed-identity' });
  t.same(kindOf({ ...noSecret, GPP_CREDENTIAL: 'managed-identity', GPP_TOKEN_URL: undefined }), { kind: 'managed-identity', clientId: 'app' }, 'a user-assigned identity');
  t.match(kindOf(noSecret), [/a Graph credential is required: give GPP_CLIENT_SECRET \(or GPP_CLIENT_SECRET_FILE\), GPP_CLIENT_CERTIFICATE_FILE or GPP_CLIENT_ASSERTION_FILE \(or AZURE_FEDERATED_TOKEN_FILE\), or set GPP_CREDENTIAL=managed-identity/]);
  t.match(kindOf({ ...base(dir), GPP_CREDENTIAL: 'certificate' }), [/GPP_CLIENT_SECRET \(or GPP_CLIENT_SECRET_FILE\) is set, but GPP_CREDENTIAL is certificate; remove it/, /GPP_CREDENTIAL is certificate, which needs GPP_CLIENT_CERTIFICATE_FILE/]);
  t.match(kindOf({ ...base(dir), GPP_CREDENTIAL: 'password' }), [/GPP_CREDENTIAL must be/]);
  t.match(kindOf({ ...base(dir), GPP_TOKEN_URL: 'http://login.example/t/oauth2/v2.0/token' }), [/GPP_TOKEN_URL must be https:\/\/<host>\/<tenant>\/oauth2\/v2\.0\/token/]);
  t.match(kindOf({ ...base(dir), GPP_TOKEN_URL: undefined }), [/GPP_TOKEN_URL is required/]);
  t.match(kindOf({ ...noSecret, GPP_CLIENT_CERTIFICATE_FILE: join(dir, 'cert.pem') }), [/GPP_CLIENT_CERTIFICATE_FILE: .* must hold the PEM private key and the certificate/]);
  t.match(kindOf({ ...base(dir), GPP_CLIENT_ID: undefined, AZURE_CLIENT_ID: 'from-webhook' }), { clientId: 'from-webhook' }, "AZURE_CLIENT_ID, as Azure's workload-identity webhook sets it");
});

t.test('defaults are written once, in the schema: the usage text and the README table say the same', async (t) => {
  const { readFile } = await import('node:fs/promises');
  const { CONFIG_SCHEMA, SERVE_VARIABLES } = await import('../../src/server/config.js');
  const readme = await readFile('README.md', 'utf8');
  for (const schema of Object.values(CONFIG_SCHEMA.properties) as { env: string; default?: unknown }[]) {
    if (schema.default === undefined) continue;
    const shown = Array.isArray(schema.default) ? schema.default.join(',') : String(schema.default);
    t.match(SERVE_VARIABLES.find(([name]) => name === schema.env)?.[1], `(default ${shown})`, `${schema.env}: usage text`);
    t.match(readme.split('\n').find((line) => line.startsWith('| ') && line.includes(`\`${schema.env}`)), shown, `${schema.env}: README row`);
  }
});
