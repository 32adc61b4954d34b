/**
 * The policy history through real processes: `serve` records each set that goes live, the history survives
 * `kill -9` of the proxy (and of redis-server, which runs with appendfsync always), and `policy history
 * --verify` passes on the untouched history and fails once an entry is edited. Both stores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Agent, request } from 'undici';
import { Redis } from 'ioredis';
import { hashConsumerKey } from '../../src/server/consumer-keys.js';
import { selfSignedCertificate } from '../../src/server/tls.js';
import { startSimulator } from '../../src/simulator/server.js';
import { runCli } from '../helpers/cli.js';
import { redisAvailable, startRedis } from '../helpers/redis.js';

// Each case starts the CLI as its own process (about 1-3 s each on a busy 2-core machine): the file as a whole
// needs more than tap's default 120 s there, though no single case is slow.
t.setTimeout(360_000);

async function until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const kind of ['embedded', 'redis'] as const) {
  t.test(`${kind}: the policy history survives kill -9 and --verify catches a tampered entry`, { skip: kind === 'redis' && !redisAvailable ? 'redis-server is not installed' : false }, async (t) => {
    const sim = await startSimulator({ users: 60, concealedNames: false });
    t.teardown(() => sim.close());
    const dir = await mkdtemp(join(tmpdir(), 'gpp-policy-history-'));
    const policies = join(dir, 'policies');
    await cp('policies', policies, { recursive: true });
    const tls = await selfSignedCertificate(1);
    await writeFile(join(dir, 'cert.pem'), tls.cert);
    await writeFile(join(dir, 'key.pem'), tls.key);
    const dispatcher = new Agent({ connect: { ca: tls.cert } });
    t.teardown(() => dispatcher.close());
    let redis = kind === 'redis' ? await startRedis() : undefined;
    t.teardown(() => redis?.stop());
    const historyFile = join(dir, 'state', 'policy-history.jsonl');
    const where = kind === 'redis' ? ['--redis', redis!.url] : ['--file', historyFile];
    const caFile = join(dir, 'authority-ca.pem');
    await writeFile(caFile, sim.authorityCa);
    const start = async (): Promise<{ child: ChildProcess; url: string }> => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
        env: {
          PATH: process.env.PATH, GPP_PORT: '0', GPP_HOST: '127.0.0.1', GPP_POLICIES_DIR: policies,
          GPP_CONSUMER_KEYS: `adoption-dashboard=sha256:${hashConsumerKey('gpp_history-test-key-000000000000000000000000000')}`,
          GPP_PSEUDONYM_KEYS: `licence-tool=${Buffer.alloc(32, 3).toString('base64')}`,
          GPP_SEAL_SECRET: Buffer.alloc(32, 6).toString('base64'), GPP_NOISE_KEY: Buffer.alloc(32, 8).toString('base64'),
          GPP_TLS_CERT_FILE: join(dir, 'cert.pem'), GPP_TLS_KEY_FILE: join(dir, 'key.pem'), GPP_GRAPH_URL: sim.graphUrl, GPP_TOKEN_URL: sim.entraTokenUrl, GPP_AUTHORITY_CA_FILE: caFile,
          GPP_CLIENT_ID: sim.clientId, GPP_CLIENT_SECRET: sim.clientSecret, GPP_DOWNLOAD_HOSTS: `${sim.downloadUrl}/data/`,
          GPP_BUDGET_LEDGER_FILE: join(dir, 'state', 'ledger.jsonl'), GPP_SCORE_HISTORY_FILE: join(dir, 'state', 'score.jsonl'),
          ...(redis !== undefined ? { GPP_REDIS_URL: redis.url } : {}),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      const end = Date.now() + 30_000;
      while (!/listening at (\S+),/.test(out)) {
        if (child.exitCode !== null || Date.now() > end) throw new Error(`serve did not start: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return { child, url: /listening at (\S+),/.exec(out)![1]! };
    };
    const entries = async () => (await runCli(['policy', 'history', ...where])).out.split('\n').filter((l) => /^#\d+ /.test(l));

    const first = await start();
    t.teardown(() => first.child.kill('SIGKILL'));
    await until(async () => (await entries()).length === 1, 'the first entry');
    t.match((await runCli(['policy', 'history', ...where])).out, /^#1 .*\n.*\n {4}~ \(the first set in this history: nothing was recorded before it\)\n {4}~ file default-deny\.yaml added\n/, 'the first entry says it is the first, not a change made while the proxy was stopped');
    // An officer rewords the vendor's description: tests still pass, so it goes live and is recorded.
    const vendor = join(policies, 'vendor-dashboard.yaml');
    await writeFile(vendor, (await readFile(vendor, 'utf8')).replace('The adoption dashboard from', 'The dashboard from'));
    await until(async () => (await entries()).length === 2, 'the second entry');
    const recorded = await runCli(['policy', 'history', ...where]);
    t.match(recorded.out, /^#2 \S+ version [0-9a-f]{12} \(\+0 -0 ~1\) hash [0-9a-f]{64}\n {4}files: default-deny\.yaml sha256:[0-9a-f]{16}, licence-management\.yaml sha256:[0-9a-f]{16}, vendor-dashboard\.yaml sha256:[0-9a-f]{16}\n {4}~ adoption-dashboard: description changed/m);
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    if (redis !== undefined) {
      redis.process.kill('SIGKILL');
      await once(redis.process, 'exit');
      redis = await startRedis({ dir: redis.dir, port: redis.port });
    }

    const second = await start();
    t.teardown(() => second.child.kill('SIGKILL'));
    const verified = await runCli(['policy', 'history', ...where, '--verify']);
    t.equal(verified.code, 0, verified.err);
    t.match(verified.out, /Verified: 2 entries in .*, chain intact; newest hash [0-9a-f]{64}/, 'the restart with the same set adds nothing and the chain holds');
    const page = await request(`${second.url}/disclosure.html`, { dispatcher });
    t.match(await page.body.text(), /in force since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(policy history entry 2\)/, 'the disclosure shows since when the live version is in force');
    second.child.kill('SIGKILL');
    await once(second.child, 'exit');

    // Someone edits entry 1 to hide that the vendor policy existed in that form.
    if (kind === 'embedded') {
      const text = await readFile(historyFile, 'utf8');
      await writeFile(historyFile, text.replace(/"at":"[^"]+"/, '"at":"2020-01-01T00:00:00.000Z"'));
    } else {
      const client = new Redis(redis!.url);
      const line = (await client.lindex('gpp:policy-history', 0))!;
      await client.lset('gpp:policy-history', 0, line.replace(/"at":"[^"]+"/, '"at":"2020-01-01T00:00:00.000Z"'));
      await client.quit();
    }
    const tampered = await runCli(['policy', 'history', ...where, '--verify']);
    t.equal(tampered.code, 1);
    t.match(tampered.err, /line 1: entry #1 \(version [0-9a-f]{12}\) was edited: its content does not match its hash/);
    t.match(tampered.err, /has been tampered with/);
  });
}
