/**
 * Red team (two colluding consumers, issue 15): two tools whose policies differ only in a setting that does not
 * change a figure's noise scale (here k: 10 for one vendor, 9 for the other, with the same margin, dimensions and
 * sums) used to get two independently noised releases of the same department and office counts, each charged
 * only to its own share; averaging N such draws cuts the noise by sqrt(N). Noise is now keyed by what is released
 * (report, window, refresh date, the data, dimension, cell, measure and scale; cohort/release.ts noisyMeasureId),
 * so both vendors receive the same noisy figure for every cell both are shown, and the organisation pays for it
 * once. The policies are written here (a copy of a noisy vendor dashboard), so the test does not depend on
 * whether the shipped vendor policy is noisy.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConsumerKeys } from '../../src/server/consumer-keys.js';
import { startStack } from '../helpers/proxy-stack.js';

const TEAMS = 'getTeamsUserActivityUserDetail';
const A = 'gpp_test-first-vendor-key-00000000000000000000000000';
const B = 'gpp_test-second-vendor-key-0000000000000000000000000';
const TRUTH = 'gpp_test-exact-reader-key-00000000000000000000000000';

/** A noisy adoption dashboard: department and office cohorts of Teams use, counts within ±5 (95%). */
const vendorPolicy = (name: string, consumer: string, k: number) => `name: ${name}
description: A noisy adoption dashboard (red-team fixture).
consumers: [${consumer}]
k: ${k}
kC: 5
periods: [D30]
privacyBudget: { epsilonPerYear: 1000 }
reports:
  ${TEAMS}:
    cohort:
      by: [organization, department, officeLocation]
      metrics:
        Team Chat Message Count: { clip: 200 }
        Private Chat Message Count: { clip: 600 }
      noise: { margin95: 5 }
`;

t.test('two vendors whose policies differ only in k get the same noisy figure for every shared cell, paid for once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-avg-'));
  await writeFile(join(dir, 'first-vendor.yaml'), vendorPolicy('first-vendor', 'first-vendor', 10));
  await writeFile(join(dir, 'second-vendor.yaml'), vendorPolicy('second-vendor', 'second-vendor', 9));
  // The truth, for measuring only (an exact reader with the same cuts; the attack does not need it).
  await writeFile(join(dir, 'truth.yaml'), `name: truth\ndescription: Exact cohorts for the measurement.\nconsumers: [exact-reader]\nk: 2\nkC: 2\nperiods: [D30]\nreports:\n  ${TEAMS}:\n    cohort:\n      by: [organization, department, officeLocation]\n`);
  const keys = ConsumerKeys.of({ 'first-vendor': A, 'second-vendor': B, 'exact-reader': TRUTH });
  const stack = await startStack({ simulator: { users: 400 }, proxy: { policiesDir: dir, consumerKeys: keys } });
  t.teardown(() => stack.close());
  const cells = async (key: string) => {
    const res = await stack.get(`/cohorts/${TEAMS}?period=D30&by=department,officeLocation&format=json`, key);
    t.equal(res.status, 200);
    const rows = (JSON.parse(res.body.toString()) as { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null }[] }).value;
    return new Map(rows.filter((r) => r.users !== null).map((r) => [`${r.dimension}/${r.cohort.join('|')}`, [r.users!, r.activeUsers!]]));
  };
  const [a, b, truth] = [await cells(A), await cells(B), await cells(TRUTH)];
  const shared = [...a.keys()].filter((k) => b.has(k) && truth.has(k));
  t.ok(shared.length >= 10, `${shared.length} cells released to both vendors`);
  let noisy = 0;
  let differ = 0;
  for (const key of shared) {
    for (const m of [0, 1]) {
      if (a.get(key)![m] !== b.get(key)![m]) differ++;
      if (a.get(key)![m] !== truth.get(key)![m]) noisy++;
    }
  }
  t.comment(`${differ} of ${shared.length * 2} shared figures differ between the vendors; ${noisy} differ from the truth`);
  t.ok(noisy > 0, 'the figures are noisy (otherwise equality would prove nothing)');
  t.equal(differ, 0, 'colluding consumers must not get two independent noisy draws of the same cell (averaging them shrinks the noise)');
  const budgets = await Promise.all([A, B].map(async (k) => JSON.parse((await stack.get('/budget', k)).body.toString()) as { spent: number; organisation: { spent: number } }));
  t.comment(`each vendor charged ${budgets[0]!.spent} and ${budgets[1]!.spent}; organisation total ${budgets[0]!.organisation.spent}`);
  t.ok(budgets[0]!.spent > 0, 'each vendor is charged its share');
  t.equal(budgets[1]!.spent, budgets[0]!.spent, 'the same share for the same figures');
  t.equal(budgets[0]!.organisation.spent, budgets[0]!.spent, 'the organisation pays once for figures released to both');
});
