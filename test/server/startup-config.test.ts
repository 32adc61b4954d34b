/**
 * Configuration errors are found at start-up, each named, and the proxy does not start: a key digest listed
 * twice (before, the first entry silently won), a policy naming a pseudonym key the proxy does not hold
 * (before, 500s at request time), a policy with noise but no noise key (before, 503s at request time).
 * Through real `serve` processes; and a hot reload that would need a missing key is refused like a bad file.
 */
import { mkdtemp, cp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { hashConsumerKey } from '../../src/server/consumer-keys.js';
import { startSimulator } from '../../src/simulator/server.js';
import { serveEnv, startServe } from '../helpers/serve-process.js';
import { KEYS, startStack } from '../helpers/proxy-stack.js';
import { noisyVendorPolicies } from '../helpers/vendor-policy.js';

t.test('start-up refuses each configuration error, naming it', async (t) => {
  const sim = await startSimulator({ users: 40, concealedNames: false });
  t.teardown(() => sim.close());
  const digest = hashConsumerKey('gpp_shared-by-two-consumers-000000000000000000000');
  const configFile = join(await mkdtemp(join(tmpdir(), 'gpp-config-key-')), 'proxy.yaml');
  await writeFile(configFile, 'budgetLedgerFile: state/ledger.jsonl\n');
  const cases: [string, Record<string, string>, RegExp[]][] = [
    // README: "camelCase keys"; two keys are not their variable's camelCase, and the refusal listed every key.
    ["a file key spelt as its variable's camelCase", { GPP_CONFIG_FILE: configFile }, [/proxy\.yaml:1:1: 'budgetLedgerFile' is not a setting: GPP_BUDGET_LEDGER_FILE is 'ledgerFile' in a file/]],
    ['a key digest listed for two consumers', { GPP_CONSUMER_KEYS: `licence-tool=sha256:${digest}\nadoption-dashboard=sha256:${digest}` }, [/GPP_CONSUMER_KEYS/, /entries 1 \(licence-tool\) and 2 \(adoption-dashboard\) hold the same key digest/]],
    ['a key digest listed twice for one consumer', { GPP_CONSUMER_KEYS: `licence-tool=sha256:${digest}, licence-tool=sha256:${digest} expires=2026-01-01` }, [/entries 1 \(licence-tool\) and 2 \(licence-tool\) hold the same key digest/]],
    ['a policy naming a pseudonym key the proxy does not hold', { GPP_PSEUDONYM_KEYS: `other-tool=${Buffer.alloc(32, 1).toString('base64')}` }, [/licence-management\.yaml:\d+:\d+: .*pseudonym key 'licence-tool'.*GPP_PSEUDONYM_KEYS/]],
    // Before, a key file that cannot be read was reported under GPP_TLS_CERT_FILE.
    ['a TLS key file that cannot be read', { GPP_TLS_KEY_FILE: '/nonexistent/key.pem' }, [/GPP_TLS_KEY_FILE: ENOENT: no such file or directory, open '\/nonexistent\/key\.pem'/]],
    // The noisy example of the vendor policy (the shipped one is exact and needs no noise key).
    ['a noise-using policy without a noise key', { GPP_NOISE_KEY: '', GPP_POLICIES_DIR: await noisyVendorPolicies() }, [/vendor-dashboard-noisy\.yaml:\d+:\d+: .*noise.*GPP_NOISE_KEY/]],
  ];
  for (const [what, extra, messages] of cases) {
    const { env } = await serveEnv(sim, extra);
    if (extra.GPP_NOISE_KEY === '') delete env.GPP_NOISE_KEY;
    const serve = await startServe(env);
    t.teardown(() => serve.kill('SIGKILL'));
    t.equal(serve.url, undefined, `${what}: it does not listen`);
    t.not(serve.exitCode, 0, `${what}: it exits with an error`);
    for (const message of messages) t.match(serve.stderr(), message, what);
  }
});

t.test('a policy reload that names a pseudonym key the proxy does not hold is refused; the last good set stays', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-reload-keys-'));
  await cp('policies', dir, { recursive: true });
  const stack = await startStack({ proxy: { policiesDir: dir, watchPolicies: false } });
  t.teardown(() => stack.close());
  const before = stack.proxy.policies.current.version;
  const file = join(dir, 'licence-management.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replace('keyId: licence-tool', 'keyId: licence-tool-2027'));
  await stack.proxy.policies.reload();
  t.equal(stack.proxy.policies.current.version, before, 'the set needing an unknown key is not live');
  t.ok(stack.logs.some((l) => l.includes('policy set rejected') && l.includes("pseudonym key 'licence-tool-2027'")), 'and the rejection says why');
  t.equal((await stack.get("/v1.0/reports/getOffice365ActiveUserDetail(period='D30')", KEYS.licence)).status, 302, 'the tool is still served');
});
