/**
 * Every Entra credential kind through the real token flow: `serve` in its own process (as deployed), trusting
 * the simulator's login host by NODE_EXTRA_CA_CERTS (Microsoft's library insists on HTTPS and a trusted
 * certificate), obtains a token from the simulator (client secret, certificate-signed assertion, federated
 * token, IMDS, App Service), reports the kind on /readyz without the secret, and serves a report with it. A
 * wrong credential of each kind is refused. Then the token endpoint's throttling and outages, retried within
 * the time budget.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Agent, request } from 'undici';
import { EntraTokens } from '../../src/graph/token.js';
import { UpstreamError } from '../../src/graph/upstream-error.js';
import { hashConsumerKey } from '../../src/server/consumer-keys.js';
import { selfSignedCertificate } from '../../src/server/tls.js';
import { startSimulator } from '../../src/simulator/server.js';
import { TokenSigner } from '../../src/simulator/tokens.js';

t.setTimeout(300_000);

const sim = await startSimulator({ users: 30, concealedNames: false, enforceGraphLimits: false });
t.teardown(() => sim.close());
const dir = await mkdtemp(join(tmpdir(), 'gpp-credentials-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const tls = await selfSignedCertificate(1);
const files = {
  cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), ca: join(dir, 'authority-ca.pem'), secret: join(dir, 'client-secret'),
  clientCertificate: join(dir, 'client.pem'), federatedToken: join(dir, 'federated-token'),
};
await writeFile(files.cert, tls.cert);
await writeFile(files.key, tls.key);
await writeFile(files.ca, sim.authorityCa);
await writeFile(files.secret, sim.clientSecret);
await writeFile(files.clientCertificate, sim.clientCertificatePem);
await writeFile(files.federatedToken, sim.federatedToken());
const KEY = 'gpp_credentials-test-key-00000000000000000000000000';
const proxyTrust = new Agent({ connect: { ca: tls.cert } });
t.teardown(() => proxyTrust.close());

/** Starts `serve` with the common settings plus `env`; resolves with its URL, or with its exit and stderr. */
async function serve(env: Record<string, string>, name: string): Promise<{ url?: string; stderr: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: {
      PATH: process.env.PATH!, NODE_EXTRA_CA_CERTS: files.ca, GPP_HOST: '127.0.0.1', GPP_PORT: '0',
      GPP_CONSUMER_KEYS: `licence-tool=sha256:${hashConsumerKey(KEY)}`, GPP_PSEUDONYM_KEYS: `licence-tool=${Buffer.alloc(32, 2).toString('base64')}`,
      GPP_SEAL_SECRET: Buffer.alloc(32, 3).toString('base64'), GPP_NOISE_KEY: Buffer.alloc(32, 4).toString('base64'), GPP_TLS_CERT_FILE: files.cert, GPP_TLS_KEY_FILE: files.key,
      GPP_GRAPH_URL: sim.graphUrl, GPP_DOWNLOAD_HOSTS: `${sim.downloadUrl}/data/`,
      GPP_BUDGET_LEDGER_FILE: join(dir, name, 'ledger.jsonl'), GPP_SCORE_HISTORY_FILE: join(dir, name, 'history.jsonl'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stderr = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (stderr += d));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  };
  while (!/listening at (\S+),/.test(out)) {
    if (child.exitCode !== null) return { stderr, stop };
    await Promise.race([once(child.stdout, 'data'), once(child, 'exit')]);
  }
  return { url: /listening at (\S+),/.exec(out)![1]!, stderr, stop };
}

async function readyz(url: string): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const res = await request(`${url}/readyz`, { dispatcher: proxyTrust });
  const text = await res.body.text();
  return { status: res.statusCode, body: JSON.parse(text) as Record<string, unknown>, text };
}

const entra = { GPP_TOKEN_URL: sim.entraTokenUrl, GPP_CLIENT_ID: sim.clientId };
const kinds: { kind: string; grant: 'secret' | 'certificate' | 'federated' | 'imds' | 'appService'; env: Record<string, string>; wrong: Record<string, string> }[] = [
  { kind: 'secret', grant: 'secret', env: { ...entra, GPP_CLIENT_SECRET_FILE: files.secret }, wrong: { ...entra, GPP_CLIENT_SECRET: 'not-the-secret' } },
  { kind: 'certificate', grant: 'certificate', env: { ...entra, GPP_CLIENT_CERTIFICATE_FILE: files.clientCertificate }, wrong: { ...entra, GPP_CLIENT_CERTIFICATE_FILE: join(dir, 'unregistered.pem') } },
  { kind: 'workload-identity', grant: 'federated', env: { ...entra, AZURE_FEDERATED_TOKEN_FILE: files.federatedToken }, wrong: { ...entra, GPP_CLIENT_ASSERTION_FILE: join(dir, 'foreign-token') } },
  { kind: 'managed-identity', grant: 'imds', env: { GPP_CREDENTIAL: 'managed-identity', AZURE_POD_IDENTITY_AUTHORITY_HOST: sim.imdsUrl }, wrong: { GPP_CREDENTIAL: 'managed-identity', GPP_CLIENT_ID: 'another-identity', AZURE_POD_IDENTITY_AUTHORITY_HOST: sim.imdsUrl } },
  { kind: 'managed-identity', grant: 'appService', env: { GPP_CREDENTIAL: 'managed-identity', IDENTITY_ENDPOINT: sim.appServiceEndpoint, IDENTITY_HEADER: sim.identityHeader }, wrong: { GPP_CREDENTIAL: 'managed-identity', IDENTITY_ENDPOINT: sim.appServiceEndpoint, IDENTITY_HEADER: 'not-the-header' } },
];
// Wrong material: a certificate the app does not know, a federated token from an issuer it does not trust.
const stranger = await selfSignedCertificate(1);
await writeFile(join(dir, 'unregistered.pem'), `${stranger.key}${stranger.cert}`);
await writeFile(join(dir, 'foreign-token'), new TokenSigner(Buffer.alloc(32, 9)).sign({ typ: 'federated', iss: 'https://kubernetes.simulated.invalid', aud: 'api://AzureADTokenExchange', exp: Math.floor(Date.now() / 1000) + 600 }));

for (const { kind, grant, env, wrong } of kinds) {
  t.test(`${kind} (${grant}): serve obtains a Graph token through the real flow, /readyz names the kind, a report is served`, async (t) => {
    const before = sim.stats.tokensByGrant[grant] ?? 0;
    const proxy = await serve(env, `${grant}-good`);
    t.teardown(proxy.stop);
    t.ok(proxy.url, proxy.stderr);
    const ready = await readyz(proxy.url!);
    t.equal(ready.status, 200, ready.text);
    t.same(ready.body.checks, { policies: (ready.body.checks as { policies: string }).policies, graphToken: 'ok', credential: kind, store: 'ok' });
    for (const secret of [sim.clientSecret, sim.identityHeader, sim.federatedToken().split('.')[0]!, 'PRIVATE KEY']) t.notOk(ready.text.includes(secret), 'no secret in /readyz');
    t.ok((sim.stats.tokensByGrant[grant] ?? 0) > before, `the simulator issued a token by ${grant}`);
    const redirect = await request(`${proxy.url}/v1.0/reports/getOffice365ActiveUserDetail(period='D30')`, { dispatcher: proxyTrust, headers: { authorization: `Bearer ${KEY}` } });
    await redirect.body.dump();
    t.equal(redirect.statusCode, 302);
    const csv = await request(String(redirect.headers.location), { dispatcher: proxyTrust });
    t.match(await csv.body.text(), /^\uFEFF?User Principal Name,/, 'Graph accepted the token: a cleaned report');
  });

  t.test(`${kind} (${grant}): a wrong credential is refused and /readyz says so, naming no secret`, async (t) => {
    const proxy = await serve(wrong, `${grant}-wrong`);
    t.teardown(proxy.stop);
    t.ok(proxy.url, proxy.stderr);
    const ready = await readyz(proxy.url!);
    t.equal(ready.status, 503);
    t.match(ready.body.checks, { graphToken: 'unavailable', credential: kind });
    t.notOk(ready.text.includes('not-the-secret') || ready.text.includes('not-the-header'));
  });
}

t.test('the token endpoint throttled (429 + Retry-After) or failing (503) is retried within the time budget', async (t) => {
  const secret = { kind: 'secret' as const, tokenUrl: sim.entraTokenUrl, clientId: sim.clientId, clientSecret: sim.clientSecret };
  sim.faults = { token: { status: 429, remaining: 2, retryAfterSeconds: 1 } };
  const issued = sim.stats.tokensIssued;
  const throttled = new EntraTokens({ credential: secret, authorityCa: sim.authorityCa });
  const started = Date.now();
  t.ok(await throttled.token());
  t.equal(sim.faults.token!.remaining, 0, 'both 429s were answered');
  t.equal(sim.stats.tokensIssued, issued + 1, 'then one token');
  t.ok(Date.now() - started >= 2000, "Retry-After was honoured (1 s, twice)");

  sim.faults = { token: { status: 503, remaining: 1 } };
  t.ok(await new EntraTokens({ credential: secret, authorityCa: sim.authorityCa }).token(), 'one 503 is retried');

  sim.faults = { token: { status: 503, remaining: 1_000 } };
  const down = new EntraTokens({ credential: secret, authorityCa: sim.authorityCa, budgetMs: 4_000 });
  const failedAt = Date.now();
  const error = await down.token().then(() => undefined, (e: unknown) => e);
  const elapsed = Date.now() - failedAt;
  t.ok(error instanceof UpstreamError && error.code === 'TokenUnavailable', String(error));
  t.match((error as Error).message, /the secret credential could not obtain a token/);
  t.notOk((error as Error).message.includes(sim.clientSecret));
  t.ok(elapsed >= 3_900 && elapsed < 5_000, `gave up at the budget (${elapsed} ms for a 4,000 ms budget)`);
  t.match((error as Error).message, /no token within the time budget/);
  sim.faults = {};
});
