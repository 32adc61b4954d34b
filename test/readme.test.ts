/**
 * The README's "Two commands" block, run literally as a newcomer runs it: in a fresh clone of HEAD, with the
 * machine's own Node and npm first on PATH (not the Node 24 this suite runs on). `npm ci && npm start` runs
 * until the demo is ready, a request through it gets a cleaned report, and Ctrl+C (SIGINT to the process
 * group) stops it and removes its temporary folder. `npm test` is the literal command too, but it is stopped
 * once the type check has passed and the first test file has passed in the clone: the whole suite is what is
 * running this test, and running it twice would double CI's time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import t from 'tap';
import { Agent, request } from 'undici';

t.setTimeout(900_000);

/** The fenced block right under "## Two commands", without blank lines. */
async function readmeCommands(): Promise<string[]> {
  const readme = await readFile('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Two commands'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block.split('\n').filter((line) => line.trim() !== '');
}

/** PATH as a fresh machine has it: this project's node_modules/.bin entries (npm test's Node 24) removed. */
const machinePath = (process.env.PATH ?? '').split(delimiter).filter((dir) => !dir.includes('node_modules')).join(delimiter);

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

/** Runs a shell line in its own process group, as a terminal would, collecting its output. */
function shell(line: string, cwd: string): { child: ChildProcess; output: () => string } {
  const env = { PATH: machinePath, HOME: process.env.HOME ?? tmpdir(), TMPDIR: tmpdir(), [NESTED]: '1' };
  const child = spawn('bash', ['-c', line], { cwd, detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output };
}

async function until(run: { child: ChildProcess; output: () => string }, pattern: RegExp, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  while (!pattern.test(run.output())) {
    if (run.child.exitCode !== null) throw new Error(`exited ${run.child.exitCode} before ${pattern}:\n${run.output().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms:\n${run.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return run.output();
}

const stopGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
};

/** Set for the clone's own `npm test`, whose copy of this file must not clone again. */
const NESTED = 'GPP_README_TEST_NESTED';

t.test("the README's two commands work in a fresh clone on the machine's own Node", async (t) => {
  if (process.env[NESTED] === '1') {
    t.comment('this is the clone started by the README test: no second clone');
    return;
  }
  const commands = await readmeCommands();
  t.same(commands, ['npm ci && npm start', 'npm test'], 'the block this test runs is the one the README shows');
  const dir = await mkdtemp(join(tmpdir(), 'gpp-readme-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const clone = spawn('git', ['clone', '--quiet', '--no-hardlinks', process.cwd(), join(dir, 'clone')], { stdio: 'inherit' });
  t.equal((await once(clone, 'exit'))[0], 0, 'git clone');
  const cwd = join(dir, 'clone');

  // The demo's fixed ports may be held for a moment by another run of this test on the machine.
  for (let i = 0; i < 120 && !(await Promise.all([8443, 4010, 4011].map(portFree))).every(Boolean); i++) await new Promise((r) => setTimeout(r, 1000));

  const start = shell(commands[0]!, cwd);
  t.teardown(() => stopGroup(start.child, 'SIGKILL'));
  const out = await until(start, /Press Ctrl\+C/, 420_000);
  const proxyUrl = /Proxy:\s+(\S+)/.exec(out)![1]!;
  t.equal(proxyUrl, 'https://127.0.0.1:8443', 'the port the README names');
  const certFile = /certificate (\S+)\)/.exec(out)![1]!;
  const key = /licence-tool\s+(gpp_\S+)/.exec(out)![1]!;
  const dispatcher = new Agent({ connect: { ca: await readFile(certFile, 'utf8') } });
  t.teardown(() => dispatcher.close());
  const res = await request(`${proxyUrl}/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$top=2`, { dispatcher, headers: { authorization: `Bearer ${key}` } });
  t.equal(res.statusCode, 200);
  const body = (await res.body.json()) as { value: { userPrincipalName: string }[] };
  t.match(body.value[0]!.userPrincipalName, /^licence-tool\.1\./, 'the demo serves pseudonymised rows');
  stopGroup(start.child, 'SIGINT');
  await once(start.child, 'exit');
  await t.rejects(stat(certFile), { code: 'ENOENT' }, 'Ctrl+C removes the demo certificate and state');

  // npm scripts in the clone run on the pinned Node 24, whatever Node the machine has.
  const runtime = shell('npm exec --no -- node --version && node --version', cwd);
  await once(runtime.child, 'exit');
  const [inScripts, onMachine] = runtime.output().trim().split('\n');
  t.match(inScripts, /^v24\./, `npm scripts run on ${inScripts} (the machine's own node is ${onMachine})`);

  const test = shell(commands[1]!, cwd);
  t.teardown(() => stopGroup(test.child, 'SIGKILL'));
  const tested = await until(test, /^# Subtest: test\/[\s\S]*?^ok \d+ - test\//m, 420_000);
  t.match(tested, /> tsc -p tsconfig\.json --noEmit/, 'the type check ran');
  t.match(tested, /no dependency violations found/, 'the dependency rules ran and passed');
  t.notMatch(tested, /^not ok/m, 'and the first test file passed');
  stopGroup(test.child, 'SIGTERM');
  await once(test.child, 'exit');
});
