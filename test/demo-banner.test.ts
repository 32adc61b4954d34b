/**
 * The demo's banner says how the simulated tenant writes names, as asked: `demo --concealed on` said "names not
 * concealed so you can see what is hidden" while its cohorts answered 409 CohortsUnavailable. Real processes.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';

t.setTimeout(120_000);

async function banner(extra: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'demo', '--port', '0', '--download-port', '0', '--proxy-port', '0', '--users', '20', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  try {
    const end = Date.now() + 60_000;
    while (!/Press Ctrl\+C/.test(out)) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`the demo did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return out;
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

t.test('the banner names the tenant\'s concealed-names setting', async (t) => {
  t.match(await banner(['--concealed', 'on']), /Simulated Graph: \S+ \(20 users, names concealed as you asked \(--concealed on\): cohorts by department or office answer 409\)/);
  t.match(await banner([]), /Simulated Graph: \S+ \(20 users, names not concealed so you can see what is hidden\)/);
});
