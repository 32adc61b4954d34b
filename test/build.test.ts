/**
 * The production build, as the Dockerfile runs it: scripts/build-prod.sh in a copy of the project (it prunes
 * dev dependencies, so never in the working tree), then the built output started with `serve` against the
 * simulated tenant under the image's V8 flags (bench/image-flags.ts), serving a cleaned report and answering the
 * HEALTHCHECK's probe.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Agent, request } from 'undici';
import { hashConsumerKey } from '../src/server/consumer-keys.js';
import { selfSignedCertificate } from '../src/server/tls.js';
import { imageStart } from '../bench/image-flags.js';
import { startSimulator } from '../src/simulator/server.js';

t.setTimeout(600_000);

t.test('scripts/build-prod.sh builds a production tree whose dist/ serves cleaned reports', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-build-'));
  for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'src', 'policies']) await cp(entry, join(dir, entry), { recursive: true });
  const build = spawnSync('bash', ['scripts/build-prod.sh'], { cwd: dir, encoding: 'utf8', timeout: 540_000 });
  t.equal(build.status, 0, build.stderr.slice(-2000));
  const devOnly = spawnSync('node', ['-e', "require.resolve('typescript')"], { cwd: dir });
  t.not(devOnly.status, 0, 'dev dependencies are pruned');

  const sim = await startSimulator({ users: 40, concealedNames: false });
  t.teardown(() => sim.close());
  const tls = await selfSignedCertificate(1);
  await writeFile(join(dir, 'cert.pem'), tls.cert);
  await writeFile(join(dir, 'key.pem'), tls.key);
  await writeFile(join(dir, 'authority-ca.pem'), sim.authorityCa);
  const key = 'gpp_build-test-key-000000000000000000000000000000000';
  // Started as the image starts it: its NODE_OPTIONS and its entrypoint's flags (Node refuses one it does not allow there).
  const image = imageStart();
  const child = spawn(process.execPath, [...image.entrypoint, 'dist/cli.js', 'serve'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH, NODE_ENV: 'production', NODE_OPTIONS: image.nodeOptions, GPP_PORT: '0', GPP_HOST: '127.0.0.1',
      GPP_CONSUMER_KEYS: `licence-tool=sha256:${hashConsumerKey(key)}`, GPP_PSEUDONYM_KEYS: `licence-tool=${Buffer.alloc(32, 4).toString('base64')}`, GPP_NOISE_KEY: Buffer.alloc(32, 8).toString('base64'),
      GPP_SEAL_SECRET: Buffer.alloc(32, 6).toString('base64'), GPP_TLS_CERT_FILE: join(dir, 'cert.pem'), GPP_TLS_KEY_FILE: join(dir, 'key.pem'),
      GPP_GRAPH_URL: sim.graphUrl, GPP_TOKEN_URL: sim.entraTokenUrl, NODE_EXTRA_CA_CERTS: join(dir, 'authority-ca.pem'), GPP_CLIENT_ID: sim.clientId, GPP_CLIENT_SECRET: sim.clientSecret,
      GPP_DOWNLOAD_HOSTS: `${sim.downloadUrl}/data/`, GPP_BUDGET_LEDGER_FILE: join(dir, 'state', 'ledger.jsonl'), GPP_SCORE_HISTORY_FILE: join(dir, 'state', 'history.jsonl'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  // A proxy that exits before it listens (a flag its Node refuses, say) fails the test at once, with what it said.
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`the built proxy exited (${String(code)}) before listening: ${err.slice(0, 500)}`);
  });
  exited.catch(() => {});
  while (!/listening at (\S+),/.test(out)) await Promise.race([once(child.stdout, 'data'), exited]);
  const url = /listening at (\S+),/.exec(out)![1]!;
  const dispatcher = new Agent({ connect: { ca: tls.cert } });
  t.teardown(() => dispatcher.close());
  const health = await request(`${url}/healthz`, { dispatcher });
  t.equal(health.statusCode, 200);
  await health.body.dump();
  const redirect = await request(`${url}/v1.0/reports/getOffice365ActiveUserDetail(period='D30')`, { dispatcher, headers: { authorization: `Bearer ${key}` } });
  await redirect.body.dump();
  const csv = await request(String(redirect.headers.location), { dispatcher });
  const text = await csv.body.text();
  t.equal(csv.statusCode, 200);
  t.match(text, /^User Principal Name,/);
  t.notOk(text.includes('Display Name'), 'the built proxy applies the shipped policy');
});
