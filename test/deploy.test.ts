import { readFile } from 'node:fs/promises';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { policySetFromFiles } from '../src/policy/load.js';
import { SERVE_VARIABLES } from '../src/server/config.js';

t.test('deploy/kubernetes.yaml: valid manifests, a loadable policy, and only GPP_ settings serve knows', async (t) => {
  const docs = parseAllDocuments(await readFile('deploy/kubernetes.yaml', 'utf8')).map((d) => {
    t.same(d.errors, [], 'parses');
    return d.toJS() as { kind: string; data?: Record<string, string>; spec?: { template?: { spec: { containers: { env: { name: string }[] }[] } } } };
  });
  t.same(docs.map((d) => d.kind), ['ConfigMap', 'Secret', 'StatefulSet', 'Service', 'Deployment', 'Service']);
  const configMap = docs.find((d) => d.kind === 'ConfigMap')!;
  const result = policySetFromFiles(new Map(Object.entries(configMap.data!)));
  t.ok(result.ok, result.ok ? 'the ConfigMap policy loads' : JSON.stringify(result.problems));
  const known = new Set(SERVE_VARIABLES.flatMap(([names]) => names.split(/[\s,/]+/).filter((n) => n.startsWith('GPP_'))).flatMap((n) => [n, `${n}_FILE`]));
  const env = docs.find((d) => d.kind === 'Deployment')!.spec!.template!.spec.containers[0]!.env.map((e) => e.name);
  // Helper variables (e.g. REDIS_PASSWORD, used to build GPP_REDIS_URL) are not proxy settings.
  for (const name of env.filter((n) => n.startsWith('GPP_'))) t.ok(known.has(name) || known.has(name.replace(/_FILE$/, '')), `${name} is a setting serve reads`);
});

t.test('deploy: the ConfigMap mounted as the kubelet lays it out is what `policy check` checks and `serve` serves, swaps included', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { Agent, request } = await import('undici');
  const { startSimulator } = await import('../src/simulator/server.js');
  const { configMapLayout } = await import('./helpers/configmap.js');
  const { testTls } = await import('./helpers/proxy-stack.js');
  const { SERVE_KEY, serveEnv, startServe } = await import('./helpers/serve-process.js');

  const docs = parseAllDocuments(await readFile('deploy/kubernetes.yaml', 'utf8')).map((d) => d.toJS() as { kind: string; data?: Record<string, string> });
  const data = docs.find((d) => d.kind === 'ConfigMap')!.data!;
  const mount = await mkdtemp(join(tmpdir(), 'gpp-configmap-'));
  t.teardown(() => rm(mount, { recursive: true, force: true }));
  await configMapLayout(mount, data);

  const check = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'policy', 'check', mount], { encoding: 'utf8' });
  t.equal(check.status, 0, check.stderr);
  const count = Object.keys(data).length;
  t.match(check.stdout, `${count} polic${count === 1 ? 'y' : 'ies'} valid`, 'every ConfigMap file is found through its ..data link');
  const version = /version ([0-9a-f]{12})/.exec(check.stdout)![1]!;

  const sim = await startSimulator({ users: 120, concealedNames: false });
  t.teardown(() => sim.close());
  const { env } = await serveEnv(sim, { GPP_POLICIES_DIR: mount });
  const serve = await startServe(env);
  t.teardown(() => serve.kill('SIGKILL'));
  t.ok(serve.url, serve.stderr().slice(-400));
  t.match(serve.stdout(), `policy version ${version}`, 'serve loads the same set');
  const dispatcher = new Agent({ connect: { ca: (await testTls()).cert } });
  t.teardown(() => dispatcher.close());
  const get = async (path: string, key?: string) => {
    const res = await request(`${serve.url}${path}`, { dispatcher, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });
    return { status: res.statusCode, body: await res.body.text() };
  };
  const ready = await get('/readyz');
  t.equal(ready.status, 200, ready.body);
  t.match(ready.body, version);

  // A ConfigMap update: the kubelet swaps ..data; the running proxy picks up the new set.
  const vendor = await readFile('policies/vendor-dashboard.yaml', 'utf8');
  await configMapLayout(mount, { ...data, 'vendor-dashboard.yaml': vendor });
  const report = "/beta/reports/getTeamsUserActivityUserDetail(period='D30')?$format=application/json";
  const until = Date.now() + 10_000;
  let status = 0;
  while (Date.now() < until && (status = (await get(report, SERVE_KEY)).status) !== 200) await new Promise((r) => setTimeout(r, 100));
  t.equal(status, 200, 'a policy added by a ConfigMap update applies without a restart');

  // The ConfigMap emptied: the last good set stays, but the pod is no longer ready.
  await configMapLayout(mount, {});
  let readyz = 200;
  const until2 = Date.now() + 10_000;
  while (Date.now() < until2 && (readyz = (await get('/readyz')).status) !== 503) await new Promise((r) => setTimeout(r, 100));
  t.equal(readyz, 503, '/readyz fails on an emptied mount');
  t.equal((await get(report, SERVE_KEY)).status, 200, 'the last good set still serves');
  const empty = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'policy', 'check', mount], { encoding: 'utf8' });
  t.equal(empty.status, 1, '`policy check` on an empty mount fails');
  t.match(empty.stderr, /no policy files/);
  await serve.kill();
  const refused = await startServe(env);
  t.teardown(() => refused.kill('SIGKILL'));
  t.equal(refused.url, undefined, 'serve refuses to start on an empty mount');
  t.match(refused.stderr(), /no policy files/);
});
