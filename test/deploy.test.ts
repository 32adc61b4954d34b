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
