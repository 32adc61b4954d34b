import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'undici';

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
