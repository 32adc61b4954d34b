/** The policy tooling of issue 16 through the real CLI (`node --import tsx src/cli.ts policy ...`), in real processes. */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, out, err };
}

t.test('item 6: `policy check` names one version however the directory is spelt', async (t) => {
  const a = await runCli(['policy', 'check', 'policies']);
  const b = await runCli(['policy', 'check', './policies/']);
  t.equal(a.code, 0, a.err);
  const version = (s: string) => /version ([0-9a-f]{12})/.exec(s)?.[1];
  t.ok(version(a.out));
  t.equal(version(b.out), version(a.out));
});
