/**
 * The embedded store loses nothing on a hard kill: a budget charge and a score-history point written by a
 * running `serve` process survive `kill -9` (no shutdown, no flush), and the restarted process honours them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Agent, request } from 'undici';
import { hashConsumerKey } from '../../src/server/consumer-keys.js';
import { selfSignedCertificate } from '../../src/server/tls.js';
import { startSimulator } from '../../src/simulator/server.js';
import { BudgetLedger } from '../../src/store/budget-ledger.js';
import { ScoreHistory } from '../../src/store/score-history.js';
import { noisyVendorPolicies, noisyVendorReleaseEpsilon } from '../helpers/vendor-policy.js';

/** The simulator's login-host certificate in a file, for GPP_AUTHORITY_CA_FILE. */
async function writeCa(dir: string, pem: string): Promise<string> {
  await writeFile(join(dir, 'authority-ca.pem'), pem);
  return join(dir, 'authority-ca.pem');
}

t.test('kill -9 loses no budget charge and no score point', async (t) => {
  const sim = await startSimulator({ users: 200, concealedNames: false });
  t.teardown(() => sim.close());
  const dir = await mkdtemp(join(tmpdir(), 'gpp-restart-'));
  const tls = await selfSignedCertificate(1);
  await writeFile(join(dir, 'cert.pem'), tls.cert);
  await writeFile(join(dir, 'key.pem'), tls.key);
  const key = 'gpp_restart-test-key-0000000000000000000000000000000';
  const ledgerFile = join(dir, 'state', 'ledger.jsonl');
  const historyFile = join(dir, 'state', 'history.jsonl');
  // The noisy example of the vendor policy: the shipped one is exact and charges nothing.
  const policiesDir = await noisyVendorPolicies();
  const dispatcher = new Agent({ connect: { ca: tls.cert } });
  t.teardown(() => dispatcher.close());
  const start = async (): Promise<{ child: ChildProcess; url: string; logs: () => string }> => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      env: {
        PATH: process.env.PATH, GPP_PORT: '0', GPP_HOST: '127.0.0.1', GPP_CONSUMER_KEYS: `adoption-dashboard=sha256:${hashConsumerKey(key)}`,
        GPP_SEAL_SECRET: Buffer.alloc(32, 6).toString('base64'), GPP_NOISE_KEY: Buffer.alloc(32, 8).toString('base64'),
        GPP_PSEUDONYM_KEYS: `licence-tool=${Buffer.alloc(32, 4).toString('base64')}`,
        GPP_TLS_CERT_FILE: join(dir, 'cert.pem'), GPP_TLS_KEY_FILE: join(dir, 'key.pem'), GPP_GRAPH_URL: sim.graphUrl, GPP_TOKEN_URL: sim.entraTokenUrl, GPP_AUTHORITY_CA_FILE: await writeCa(dir, sim.authorityCa),
        GPP_CLIENT_ID: sim.clientId, GPP_CLIENT_SECRET: sim.clientSecret, GPP_DOWNLOAD_HOSTS: `${sim.downloadUrl}/data/`,
        GPP_BUDGET_LEDGER_FILE: ledgerFile, GPP_SCORE_HISTORY_FILE: historyFile, GPP_POLICIES_DIR: policiesDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    while (!/listening at (\S+),/.test(out)) await once(child.stdout!, 'data');
    return { child, url: /listening at (\S+),/.exec(out)![1]!, logs: () => out };
  };
  const get = async (url: string) => {
    const res = await request(url, { dispatcher, headers: { authorization: `Bearer ${key}` } });
    return { status: res.statusCode, body: await res.body.text() };
  };

  const first = await start();
  const cohorts = await get(`${first.url}/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json`);
  t.equal(cohorts.status, 200);
  t.equal((await get(`${first.url}/org-score?period=D30`)).status, 200);
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');

  const ledger = await BudgetLedger.open(ledgerFile);
  // The cohorts and the noisy score (whose noise uses the policy's largest cohort epsilon, the Teams rule's).
  // Charged per noisy measure: their epsilons add up to the releases' (up to floating-point rounding).
  t.ok(Math.abs((await ledger.spent('adoption-dashboard')) - 2 * noisyVendorReleaseEpsilon('getTeamsUserActivityUserDetail')) < 1e-9, 'the charges made before the kill (the cohorts and the noisy score) are on disk');
  await ledger.close();
  const history = await ScoreHistory.open(historyFile);
  t.equal((await history.series('D30')).length, 1, 'the score point made before the kill is on disk');
  await history.close();

  const second = await start();
  t.teardown(() => second.child.kill('SIGKILL'));
  const again = await get(`${second.url}/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json`);
  const value = (body: string) => JSON.stringify(JSON.parse(body).value);
  t.equal(value(again.body), value(cohorts.body), 'the restarted proxy gives the same (sticky) answer');
  // The audit line is written after the response; on a busy machine it can take a moment to arrive.
  const repeated = () => /"budget":\{"charged":false,"spent":([0-9.e-]+),/.exec(second.logs());
  for (const until = Date.now() + 5_000; repeated() === null && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
  const logged = repeated();
  // Charged per noisy measure: their epsilons add up to the releases' (up to floating-point rounding).
  t.ok(logged !== null && Math.abs(Number(logged[1]) - 2 * noisyVendorReleaseEpsilon('getTeamsUserActivityUserDetail')) < 1e-9, 'and does not charge the repeat again');
});
