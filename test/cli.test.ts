import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'undici';

// Each case starts the CLI as its own process (about 1-3 s each on a busy 2-core machine): the file as a whole
// needs more than tap's default 120 s there, though no single case is slow.
t.setTimeout(360_000);

const cli = (args: string[]) => spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });

t.test('`simulator` serves a tenant, prints how to call it, and stops cleanly on SIGTERM', async (t) => {
  const child = cli(['simulator', '--port', '0', '--download-port', '0', '--users', '25', '--concealed', 'off']);
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  while (!/Press Ctrl\+C/.test(out)) await once(child.stdout, 'data');
  const graphUrl = /Graph host:\s+(\S+)/.exec(out)![1]!;
  const tokenUrl = /Token URL:\s+(\S+)/.exec(out)![1]!;
  const clientId = /Client id:\s+(\S+)/.exec(out)![1]!;
  const secret = /Client secret:\s+(\S+)/.exec(out)![1]!;
  const token = await request(tokenUrl, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=${clientId}&client_secret=${secret}&scope=https://graph.microsoft.com/.default`,
  });
  const { access_token } = (await token.body.json()) as { access_token: string };
  const counts = await request(`${graphUrl}/beta/reports/getEmailActivityCounts(period='D7')?$format=application/json`, { headers: { authorization: `Bearer ${access_token}` } });
  t.equal(counts.statusCode, 200);
  t.equal(((await counts.body.json()) as { value: unknown[] }).value.length, 7);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  t.equal(code, 0);
});

t.test('bad options are refused with one clear message and exit code 2', async (t) => {
  for (const [args, message] of [
    [['simulator', '--users', 'many'], /--users must be a whole number/],
    [['simulator', '--refresh-date', '2026-02-30'], /--refresh-date must be a date/],
    [['simulator', '--concealed', 'maybe'], /--concealed must be 'on' or 'off'/],
    [['simulator', '--colour'], /Unknown option '--colour'/],
    [['launch'], /Unknown command 'launch'/],
  ] as const) {
    const child = cli([...args]);
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const [code] = await once(child, 'exit');
    t.equal(code, 2, args.join(' '));
    t.match(err, message);
  }
});

t.test('`policy check` passes the shipped policies and lists every problem of a broken set', async (t) => {
  const good = cli(['policy', 'check', 'policies']);
  let out = '';
  good.stdout.on('data', (d) => (out += d));
  t.equal((await once(good, 'exit'))[0], 0);
  t.match(out, /policies: 3 policies valid, version [0-9a-f]{12}/);
  t.match(out, /vendor-dashboard: consumers adoption-dashboard/);

  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'bad.yaml'), 'name: bad\ndescription: Broken.\nconsumers: [x]\nk: 1\nreports:\n  getEmailActivityUserDetial: deny\n');
  const bad = cli(['policy', 'check', dir]);
  let err = '';
  bad.stderr.on('data', (d) => (err += d));
  t.equal((await once(bad, 'exit'))[0], 1);
  t.match(err, /bad\.yaml:4:4: 'k' is 1; it must be at least 2/);
  t.match(err, /1 problem; the set would not load/);
});

t.test('`policy explain` prints what a policy releases of a report, and refuses unknown names', async (t) => {
  const run = async (args: string[]) => {
    const child = cli(args);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const [code] = await once(child, 'exit');
    return { code, out };
  };
  const explained = await run(['policy', 'explain', 'licence-management', 'getOffice365ActiveUserDetail']);
  t.equal(explained.code, 0);
  t.match(explained.out, /User Principal Name \(identifier\): replaced by a keyed pseudonym/);
  const unknown = await run(['policy', 'explain', 'nobody', 'getOffice365ActiveUserDetail']);
  t.equal(unknown.code, 1);
  t.match(unknown.out, /No policy named 'nobody' in policies; there are: default-deny, licence-management, vendor-dashboard\./);
  t.match((await run(['policy', 'explain', 'licence-management', 'getNothing'])).out, /unknown report 'getNothing'/);
});

async function readUntil(child: ReturnType<typeof cli>, pattern: RegExp): Promise<string> {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  while (!pattern.test(out)) await once(child.stdout!, 'data');
  return out;
}

t.test('`demo` (npm start) serves the proxy in front of the simulator with printed demo keys; a curl gets cleaned rows', async (t) => {
  const child = cli(['demo', '--port', '0', '--download-port', '0', '--proxy-port', '0', '--users', '40']);
  t.teardown(() => child.kill('SIGKILL'));
  const out = await readUntil(child, /Press Ctrl\+C/);
  const { Agent } = await import('undici');
  const { readFile } = await import('node:fs/promises');
  const proxyUrl = /Proxy:\s+(\S+)/.exec(out)![1]!;
  const certFile = /certificate (\S+)\)/.exec(out)![1]!;
  const key = /licence-tool\s+(gpp_\S+)/.exec(out)![1]!;
  const dispatcher = new Agent({ connect: { ca: await readFile(certFile, 'utf8') } });
  t.teardown(() => dispatcher.close());
  // One page of all 40 people: with six quasi-identifiers most rows of so small a tenant are withheld (k = 5).
  const res = await request(`${proxyUrl}/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=50`, { dispatcher, headers: { authorization: `Bearer ${key}` } });
  t.equal(res.statusCode, 200);
  const body = (await res.body.json()) as { value: { userPrincipalName: string }[] };
  t.match(body.value[0]!.userPrincipalName, /^licence-tool\.1\./);
  t.match(out, /Fingerprint:\s+SHA-256 [0-9A-F:]{95}/);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  t.equal(code, 0);
});

t.test('`serve` refuses to start without its settings, naming each missing one', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const [code] = await once(child, 'exit');
  t.equal(code, 2);
  for (const name of ['GPP_CONSUMER_KEYS', 'GPP_SEAL_SECRET', 'GPP_TLS_CERT_FILE', 'GPP_TOKEN_URL', 'GPP_CLIENT_ID']) t.match(err, name);
});

t.test('`serve` runs the proxy from environment settings against a Graph endpoint', async (t) => {
  const { startSimulator } = await import('../src/simulator/server.js');
  const { selfSignedCertificate } = await import('../src/server/tls.js');
  const { hashConsumerKey } = await import('../src/server/consumer-keys.js');
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { Agent } = await import('undici');
  const sim = await startSimulator({ users: 30, concealedNames: false });
  t.teardown(() => sim.close());
  const tls = await selfSignedCertificate(1);
  const dir = await mkdtemp('/tmp/gpp-serve-');
  await writeFile(`${dir}/cert.pem`, tls.cert);
  await writeFile(`${dir}/key.pem`, tls.key);
  await writeFile(`${dir}/client-secret`, sim.clientSecret);
  await writeFile(`${dir}/authority-ca.pem`, sim.authorityCa);
  const key = 'gpp_serve-test-key-0000000000000000000000000000000';
  const env = {
    PATH: process.env.PATH, GPP_PORT: '0', GPP_HOST: '127.0.0.1', GPP_CONSUMER_KEYS: `licence-tool=sha256:${hashConsumerKey(key)}`,
    GPP_PSEUDONYM_KEYS: `licence-tool=${Buffer.alloc(32, 9).toString('base64')}`, GPP_SEAL_SECRET: Buffer.alloc(32, 5).toString('base64'),
    GPP_NOISE_KEY: Buffer.alloc(32, 7).toString('base64'), GPP_TLS_CERT_FILE: `${dir}/cert.pem`, GPP_TLS_KEY_FILE: `${dir}/key.pem`, GPP_GRAPH_URL: sim.graphUrl, GPP_TOKEN_URL: sim.entraTokenUrl, NODE_EXTRA_CA_CERTS: `${dir}/authority-ca.pem`,
    GPP_CLIENT_ID: sim.clientId, GPP_CLIENT_SECRET_FILE: `${dir}/client-secret`, GPP_DOWNLOAD_HOSTS: `${sim.downloadUrl}/data/`,
    GPP_BUDGET_LEDGER_FILE: `${dir}/ledger.jsonl`, GPP_SCORE_HISTORY_FILE: `${dir}/score-history.jsonl`,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  t.teardown(() => child.kill('SIGKILL'));
  const out = await readUntil(child, /policy version/);
  const url = /listening at (\S+),/.exec(out)![1]!;
  const dispatcher = new Agent({ connect: { ca: tls.cert } });
  t.teardown(() => dispatcher.close());
  const res = await request(`${url}/v1.0/reports/getOffice365ActiveUserDetail(period='D30')`, { dispatcher, headers: { authorization: `Bearer ${key}` } });
  t.equal(res.statusCode, 302);
  await res.body.dump();
  const download = await request(String(res.headers.location), { dispatcher });
  t.equal(download.statusCode, 200);
  t.match(await download.body.text(), /^User Principal Name,/);
  t.notOk(out.includes(sim.clientSecret), 'the client secret is not printed');
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  t.equal(code, 0);
});

t.test('`key new` prints a fresh key once and the digest line to store, which then authenticates that key', async (t) => {
  const child = cli(['key', 'new', 'my-tool']);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const [code] = await once(child, 'exit');
  t.equal(code, 0);
  const key = /^\s+(gpp_\S+)$/m.exec(out)![1]!;
  const line = /^\s+(my-tool=sha256:[0-9a-f]{64})$/m.exec(out)![1]!;
  const { ConsumerKeys } = await import('../src/server/consumer-keys.js');
  t.equal(ConsumerKeys.parse(line).consumerFor(key), 'my-tool');
  const bad = cli(['key', 'new', 'My Tool']);
  const [badCode] = await once(bad, 'exit');
  t.equal(badCode, 2);
});

/** The CLI started from another working directory, as a newcomer might (tsx is named by its absolute URL). */
const cliIn = (cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawn(process.execPath, ['--import', import.meta.resolve('tsx'), `${process.cwd()}/src/cli.ts`, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });

async function finished(child: ReturnType<typeof spawn>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, out, err };
}

t.test('every CLI error is one line naming the fix, from any working directory, never a stack trace', async (t) => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const elsewhere = await mkdtemp(`${tmpdir()}/gpp-cwd-`);
  t.teardown(() => rm(elsewhere, { recursive: true, force: true }));
  const oneLine = (r: { err: string }, pattern: RegExp) => {
    t.equal(r.err.trimEnd().split('\n').length, 1, `one line: ${r.err}`);
    t.notMatch(r.err, /\n\s+at /, 'no stack trace');
    t.match(r.err, pattern);
  };
  const check = await finished(cliIn(elsewhere, ['policy', 'check']));
  t.equal(check.code, 1);
  oneLine(check, new RegExp(`No policy directory at ${elsewhere}/policies; name it: policy check <dir>`));
  const checkShipped = await finished(cliIn(elsewhere, ['policy', 'check', `${process.cwd()}/policies`]));
  t.equal(checkShipped.code, 0, 'policy check of a named directory works from anywhere');
  const explain = await finished(cliIn(elsewhere, ['policy', 'explain', 'licence-management']));
  t.equal(explain.code, 2);
  oneLine(explain, /policy explain needs a policy and a report: policy explain <policy> <report> \[dir\]/);
  const explainHere = await finished(cliIn(elsewhere, ['policy', 'explain', 'licence-management', 'getOffice365ActiveUserDetail']));
  oneLine(explainHere, /No policy directory at .*; name it: policy explain <policy> <report> <dir>/);
  const unknownOption = await finished(cliIn(elsewhere, ['demo', '--proxy-prot', '0']));
  t.equal(unknownOption.code, 2);
  oneLine(unknownOption, /Unknown option '--proxy-prot'/);
});

t.test('a port in use is one line naming the flag that picks that port', async (t) => {
  const { createServer } = await import('node:net');
  const busy = createServer();
  busy.listen(0, '127.0.0.1');
  await once(busy, 'listening');
  t.teardown(() => busy.close());
  const port = String((busy.address() as { port: number }).port);
  const cases: [string[], RegExp][] = [
    [['simulator', '--port', port, '--download-port', '0'], new RegExp(`Port ${port} on 127.0.0.1 is already in use; choose another with --port \\(0 = any free port\\)`)],
    [['simulator', '--port', '0', '--download-port', port], /choose another with --download-port/],
    [['demo', '--port', '0', '--download-port', '0', '--proxy-port', port, '--users', '10'], /choose another with --proxy-port/],
  ];
  for (const [args, pattern] of cases) {
    const r = await finished(cli(args));
    t.equal(r.code, 1, args.join(' '));
    const lines = r.err.trimEnd().split('\n').filter((l) => !l.startsWith('{'));
    t.equal(lines.length, 1, r.err);
    t.match(lines[0], pattern);
  }
});

t.test('`demo` runs from any working directory and removes its certificate and state files when it stops', async (t) => {
  const { mkdtemp, rm, stat } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const elsewhere = await mkdtemp(`${tmpdir()}/gpp-cwd-`);
  t.teardown(() => rm(elsewhere, { recursive: true, force: true }));
  const child = cliIn(elsewhere, ['demo', '--port', '0', '--download-port', '0', '--proxy-port', '0', '--users', '20']);
  t.teardown(() => child.kill('SIGKILL'));
  const out = await readUntil(child, /Press Ctrl\+C/);
  const certFile = /certificate (\S+)\)/.exec(out)![1]!;
  const work = certFile.replace(/\/certificate\.pem$/, '');
  t.ok((await stat(certFile)).isFile(), 'the certificate exists while the demo runs');
  t.match(out, /Policies:\s+\S+\/policies \(version/);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  t.equal(code, 0);
  await t.rejects(stat(work), { code: 'ENOENT' }, 'its temporary folder is gone');
});

t.test('on a Node older than 24 the CLI says so in one line (when such a Node is on this machine)', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const older = spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' });
  if (older.status !== 0 || Number(older.stdout.slice(1).split('.')[0]) >= 24) {
    t.comment('no Node older than 24 at /usr/bin/node; nothing to check');
    return;
  }
  const r = spawnSync('/usr/bin/node', ['--import', import.meta.resolve('tsx'), 'src/cli.ts', 'policy', 'check'], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  t.match(r.stderr, /graph-privacy-proxy needs Node 24 or later; this is v\d+.*'npx node dist\/cli\.js <command>'/);
});
