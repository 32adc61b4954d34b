/**
 * What the proxy loads at start-up: the command line's own import graph (what `serve` loads before it reads its
 * settings) leaves out the simulator (and the sample reports previews draw from it), exports, Redis and the
 * self-signed certificate generator, which
 * only some commands use (bench/proxy-rss.ts measures the idle proxy's RSS); those commands load them on first
 * use, and they work then.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import t from 'tap';
import { selfSignedCertificate } from '../src/server/tls.js';

/** Records every module file a process loads and prints the list (one URL a line) on stderr at exit. */
const RECORDER = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
process.on('exit', () => process.stderr.write(loaded.join('\\n') + '\\n'));
`)}`;

function modulesLoadedBy(args: string[]): string[] {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--import', RECORDER, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (child.status !== 0) throw new Error(`exit ${child.status}: ${child.stderr.slice(-500)}`);
  return child.stderr.split('\n').filter((line) => line.startsWith('file:'));
}

t.test("the command line's start-up (serve's) loads no simulator, sample reports, export, Redis client or certificate generator", async (t) => {
  const loaded = modulesLoadedBy(['src/cli.ts', '--help']);
  t.ok(loaded.some((url) => url.endsWith('/src/server/proxy.ts')), 'the proxy itself is loaded (the recorder sees the graph)');
  t.ok(loaded.some((url) => url.includes('/node_modules/fastify/')), 'and its dependencies');
  for (const absent of ['/src/simulator/', '/src/policy/sample-reports.ts', '/src/sanitize-export.ts', '/src/store/redis-store.ts', '/node_modules/ioredis/', '/node_modules/selfsigned/', '/node_modules/@peculiar/']) {
    t.notOk(
      loaded.some((url) => url.includes(absent)),
      `${absent} is not loaded`,
    );
  }
});

t.test('a command that needs a lazily loaded module loads it on first use and works: policy preview runs the simulator', async (t) => {
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'policy', 'preview', 'policies', '--users', '200'], { encoding: 'utf8', timeout: 120_000 });
  t.equal(child.status, 0, child.stderr.slice(-500));
  t.match(child.stdout, /licence/i, 'the preview names the shipped policies');
});

t.test('the certificate generator, loaded on first use, makes a certificate for localhost and 127.0.0.1', async (t) => {
  const tls = await selfSignedCertificate(1);
  const certificate = new X509Certificate(tls.cert);
  t.match(certificate.subjectAltName ?? '', /DNS:localhost/);
  t.match(certificate.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  t.equal(tls.fingerprint256, certificate.fingerprint256);
});
