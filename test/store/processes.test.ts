/**
 * The embedded store through real processes: a corrupt ledger stops `serve` at start-up (file and line named);
 * two `serve`s on one state cannot both run (the second refuses, saying why); a lock left by a process killed
 * with -9 is taken over; a writer killed with -9 mid-stream leaves a ledger that opens with every acknowledged
 * charge in it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Agent, request } from 'undici';
import { startSimulator } from '../../src/simulator/server.js';
import { BudgetLedger } from '../../src/store/budget-ledger.js';
import { testTls } from '../helpers/proxy-stack.js';
import { SERVE_KEY, serveEnv, startServe } from '../helpers/serve-process.js';

t.test('a budget ledger line without a numeric epsilon stops `serve` at start-up, naming file and line', async (t) => {
  const sim = await startSimulator({ users: 60, concealedNames: false });
  t.teardown(() => sim.close());
  const { env } = await serveEnv(sim);
  const ledger = env.GPP_BUDGET_LEDGER_FILE!;
  await mkdir(join(ledger, '..'), { recursive: true });
  await writeFile(ledger, `${JSON.stringify({ consumer: 'adoption-dashboard', year: 2026, release: 'a'.repeat(64), epsilon: 'lots', at: '2026-11-23T10:00:00.000Z' })}\n`);
  const serve = await startServe(env);
  t.teardown(() => serve.kill('SIGKILL'));
  t.equal(serve.url, undefined, 'it never listens');
  t.not(serve.exitCode, 0, 'it exits with an error');
  t.match(serve.stderr(), `${ledger}:1: not a valid budget ledger entry`);
  t.match(serve.stderr(), 'The proxy does not start.');
  t.notMatch(serve.stderr(), /at .*\.ts:\d+/, 'a message, not a stack trace');
});

t.test('two `serve`s on one embedded state: the second refuses to start and names the holder; the budget is spent once', async (t) => {
  const sim = await startSimulator({ users: 200, concealedNames: false });
  t.teardown(() => sim.close());
  const { env } = await serveEnv(sim);
  const first = await startServe(env);
  t.teardown(() => first.kill('SIGKILL'));
  t.ok(first.url, `the first listens (${first.stderr().slice(-300)})`);
  const second = await startServe(env);
  t.teardown(() => second.kill('SIGKILL'));
  t.equal(second.url, undefined, 'the second never listens');
  t.equal(second.exitCode, 1);
  t.match(second.stderr(), new RegExp(`ledger\\.jsonl is locked by pid ${first.child.pid} on `));
  t.match(second.stderr(), /another graph-privacy-proxy process uses the same state/);

  // The first keeps serving, with its lock.
  const tls = await testTls();
  const dispatcher = new Agent({ connect: { ca: tls.cert } });
  t.teardown(() => dispatcher.close());
  const res = await request(`${first.url}/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json`, { dispatcher, headers: { authorization: `Bearer ${SERVE_KEY}` } });
  await res.body.text();
  t.equal(res.statusCode, 200);

  // After a clean stop the lock is released and a new serve starts at once.
  await first.kill('SIGTERM');
  const third = await startServe(env);
  t.teardown(() => third.kill('SIGKILL'));
  t.ok(third.url, 'a serve after a clean stop starts');
});

t.test('a lock left by a serve killed with -9 is stale (its pid is gone) and the next serve takes it over', async (t) => {
  const sim = await startSimulator({ users: 60, concealedNames: false });
  t.teardown(() => sim.close());
  const { env } = await serveEnv(sim);
  const first = await startServe(env);
  t.ok(first.url);
  await first.kill('SIGKILL');
  t.match(await readFile(`${env.GPP_BUDGET_LEDGER_FILE}.lock`, 'utf8'), `"pid":${first.child.pid}`, 'the lock outlived its holder');
  const second = await startServe(env);
  t.teardown(() => second.kill('SIGKILL'));
  t.ok(second.url, `the restart starts (${second.stderr().slice(-300)})`);
});

t.test('kill -9 during a stream of ledger writes: the ledger reopens with every acknowledged charge and takes new ones', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-kill9-'));
  const path = join(dir, 'ledger.jsonl');
  for (const killAfter of [37, 211]) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/ledger-writer.ts', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const exited = once(child, 'exit');
    while (!new RegExp(`acked ${killAfter}\\n`).test(out)) {
      if (child.exitCode !== null) break;
      await once(child.stdout!, 'data');
    }
    child.kill('SIGKILL');
    await exited;
    const acked = Math.max(...[...out.matchAll(/acked (\d+)/g)].map((m) => Number(m[1])));
    t.ok(acked >= killAfter, `the writer acknowledged ${acked} charges before the kill`);
    const ledger = await BudgetLedger.open(path);
    const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '').length;
    t.ok(lines >= acked, `every acknowledged charge is on disk (${lines} lines for ${acked} acknowledged)`);
    t.match(await ledger.charge('dash', `after-kill-${killAfter}`, 0.001, 1e5), { ok: true, charged: true });
    await ledger.close();
  }
  // A torn tail, as a kill between the bytes of one write would leave it, is cut off and does not spread.
  await appendFile(path, '{"consumer":"dash","ye');
  const ledger = await BudgetLedger.open(path);
  await ledger.charge('dash', 'after-torn', 0.001, 1e5);
  await ledger.close();
  const reopened = await BudgetLedger.open(path);
  t.ok((await reopened.spent('dash')) > 0.2);
  await reopened.close();
});
