/**
 * Red team (two colluding consumers): noise is keyed per release and a release is named by its settings, so two
 * consumers under the same settings get the same figures. But two tools whose policies differ in anything that
 * shapes the release (here only k: 10 for the noisy vendor example, 9 for a second vendor with the same margin
 * and budget) get two independently noised releases of the same department and office counts, each charged only
 * to its own share (the organisation's total shows both: the accounting is honest). Averaging N such draws cuts the
 * noise by sqrt(N): the "averaging learns nothing" protection holds only for identical settings, and nothing limits
 * the organisation's total, only each consumer's share (913 a year each for the vendor policy). Severity: medium
 * (needs two noisy policies on the same report, which an organisation with two adoption tools will have).
 */
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConsumerKeys } from '../../src/server/consumer-keys.js';
import { KEYS, startStack } from '../helpers/proxy-stack.js';
import { NOISY_VENDOR_POLICY, NOISY_VENDOR_POLICY_NAME, noisyVendorPolicies } from '../helpers/vendor-policy.js';

const TEAMS = 'getTeamsUserActivityUserDetail';
const B = 'gpp_test-second-vendor-key-0000000000000000000000000';
const TRUTH = 'gpp_test-exact-reader-key-00000000000000000000000000';

t.test('two vendors whose policies differ only in k get independent noise on the same cells', { todo: 'issue 15, open: noise keyed by the cells and measures released, not by the whole settings; or an organisation-wide limit' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-avg-'));
  // The noisy example of the vendor policy (the shipped one is exact).
  await cp(await noisyVendorPolicies(), dir, { recursive: true });
  const vendor = await readFile(NOISY_VENDOR_POLICY, 'utf8');
  await writeFile(join(dir, 'second-vendor.yaml'), vendor.replace(`name: ${NOISY_VENDOR_POLICY_NAME}`, 'name: second-vendor').replace('consumers: [adoption-dashboard]', 'consumers: [second-vendor]').replace('k: 10', 'k: 9'));
  // The truth, for measuring only (an exact reader with the same cuts; the attack does not need it).
  await writeFile(join(dir, 'truth.yaml'), `name: truth\ndescription: Exact cohorts for the measurement.\nconsumers: [exact-reader]\nk: 2\nkC: 2\nperiods: [D30]\nreports:\n  ${TEAMS}:\n    cohort:\n      by: [organization, department, officeLocation]\n`);
  const keys = ConsumerKeys.of({ 'adoption-dashboard': KEYS.vendor, 'second-vendor': B, 'exact-reader': TRUTH, 'licence-tool': KEYS.licence });
  const stack = await startStack({ simulator: { users: 400 }, proxy: { policiesDir: dir, consumerKeys: keys } });
  t.teardown(() => stack.close());
  const cells = async (key: string) => {
    const res = await stack.get(`/cohorts/${TEAMS}?period=D30&by=department,officeLocation&format=json`, key);
    t.equal(res.status, 200);
    const rows = (JSON.parse(res.body.toString()) as { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null }[] }).value;
    return new Map(rows.filter((r) => r.users !== null).map((r) => [`${r.dimension}/${r.cohort.join('|')}`, [r.users!, r.activeUsers!]]));
  };
  const [a, b, truth] = [await cells(KEYS.vendor), await cells(B), await cells(TRUTH)];
  const shared = [...a.keys()].filter((k) => b.has(k) && truth.has(k));
  t.ok(shared.length >= 10, `${shared.length} cells released to both vendors`);
  let single = 0;
  let averaged = 0;
  let differ = 0;
  for (const key of shared) {
    for (const m of [0, 1]) {
      const x = a.get(key)![m]!;
      const y = b.get(key)![m]!;
      const truthValue = truth.get(key)![m]!;
      if (x !== y) differ++;
      single += (x - truthValue) ** 2;
      averaged += ((x + y) / 2 - truthValue) ** 2;
    }
  }
  const n = shared.length * 2;
  t.comment(`${differ} of ${n} shared figures differ between the vendors; RMS error one vendor ${Math.sqrt(single / n).toFixed(2)}, the two averaged ${Math.sqrt(averaged / n).toFixed(2)}`);
  const budgets = await Promise.all([KEYS.vendor, B].map(async (k) => JSON.parse((await stack.get('/budget', k)).body.toString()) as { spent: number; organisation: { spent: number } }));
  t.comment(`each vendor charged ${budgets[0]!.spent} and ${budgets[1]!.spent}; organisation total ${budgets[0]!.organisation.spent}`);
  t.equal(differ, 0, 'colluding consumers must not get two independent noisy draws of the same cell (averaging them shrinks the noise)');
});
