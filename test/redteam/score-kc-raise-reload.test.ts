/**
 * Red team (privacy.md's threat model: consumers "keep every response they ever got"; G2 and G3 for score cells):
 * the score's side of kc-raise-reload.test.ts. Raising the policy's k_c within one Graph refresh (policy/diff.ts:
 * `less`, an exposure decrease) is united with the score table made (cohort/tables-made.ts scoreTableFor: the
 * largest k_c) as a widening: the next score release is made with a new pattern, beside the one kept. The same holds
 * for k_org (the largest is taken likewise).
 *
 * The tenant is kc-drop-reload's with files for activity (k = k_org = 4; Content collaboration: licensed for
 * OneDrive, qualifying when working with files; nobody outside the directory): DeptA 11 people (OfficeP 4/3 with
 * files, OfficeQ 7/6), DeptB 13 (P 9/8, Q 4/4), DeptC 9 (P 3/2, Q 6/4). The score by department and office is read
 * at k_c = 2, then again at k_c = 3; joined, a hidden cell's non-qualifying people are narrower than k_c = 2 allows.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { narrowedCells, type Observed } from '../helpers/independent-attacker.js';
import { KEYS, startProxyFor, type ProxyUnderTest } from '../helpers/proxy-stack.js';
import { directoryDomain, directoryOf, type Person, type RandomTenant } from '../helpers/random-tenant.js';
import { periodReports } from './nesting-tenant.js';
import { joined } from './reload-helpers.js';

t.setTimeout(120_000);

const todo = (finding: string) => (process.env.GPP_REDTEAM_TODO === 'run' ? false : finding);

const person = (without: boolean): Person => ({ idle: false, mail: true, files: !without, mobile: true, video: true });
/** `people` in a cross, `qualifying` of them with files. */
const cross = (people: number, qualifying: number) => ({ people: Array.from({ length: people }, (_, i) => person(i >= qualifying)), ghosts: 0 });
const TENANT: RandomTenant = {
  departments: 3, offices: 2, k: 4, kC: 2, kOrg: 4,
  crosses: [cross(4, 3), cross(7, 6), cross(9, 8), cross(4, 4), cross(3, 2), cross(6, 4)],
  outsiders: [],
};

const policy = (kC: number) => `name: score-by-two
description: The org score by department and office (red-team fixture).
consumers: [no-policy]
k: 4
kC: ${kC}
kOrg: 4
periods: [D30]
formats: [csv, json]
permissions: [score]
reports:
  getEmailActivityUserDetail:
    cohort:
      by: [organization, department, officeLocation]
`;

type Category = { id: string; numerator: number | null; denominator: number | null };
type ScoreBody = { organization: { categories: Category[] }; cohorts?: { cohort: string[]; categories: Category[] }[] };

/** Content collaboration by `by` (people counted as users, qualifying as active; null where hidden). */
async function read(t: Test, proxy: ProxyUnderTest, by: string): Promise<Observed> {
  const res = await proxy.get(`/org-score?period=D30&by=${by}`, KEYS.stranger);
  t.equal(res.status, 200, `score by ${by} released`);
  const body = JSON.parse(res.body.toString()) as ScoreBody;
  const of = (categories: Category[]) => {
    const c = categories.find((x) => x.id === 'contentCollaboration')!;
    return c.numerator === null || c.denominator === null ? null : { users: c.denominator, active: c.numerator };
  };
  const cells: [string, ReturnType<typeof of>][] = [['organization/all', of(body.organization.categories)], ...(body.cohorts ?? []).map((r) => [`${by}/${r.cohort.join('|')}`, of(r.categories)] as [string, ReturnType<typeof of>])];
  t.comment(`by ${by}: ${cells.map(([k, v]) => `${k} ${v === null ? 'hidden' : `${v.active}/${v.users}`}`).join('; ')}`);
  return new Map(cells);
}

t.test('the score at k_c 2 kept, read again after the policy raises k_c to 3 within the refresh: no hidden cell is narrowed', { todo: todo("raising k_c (an exposure decrease) within a refresh makes a new score pattern beside the kept one") }, async (t) => {
  const double = await startGraphDouble({ reports: await periodReports(TENANT, 'D30'), directory: directoryOf(TENANT) });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-score-kc-raise-'));
  const file = join(dir, 'score-by-two.yaml');
  await writeFile(file, policy(2));
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const structure = directoryDomain(TENANT);
  const kept = joined(await read(t, proxy, 'department'), await read(t, proxy, 'officeLocation'));
  t.same(narrowedCells(structure, kept, 4, 2), [], 'the kept score alone narrows nothing');
  const before = proxy.proxy.policies.current.version;
  await writeFile(file, policy(3));
  await proxy.proxy.policies.reload();
  t.not(proxy.proxy.policies.current.version, before, 'the set with k_c 3 is live');
  const later = joined(await read(t, proxy, 'department'), await read(t, proxy, 'officeLocation'));
  t.same(narrowedCells(structure, later, 4, 3), [], 'the later score alone narrows nothing');
  const narrowed = narrowedCells(structure, joined(kept, later), 4, 2);
  t.same(narrowed, [], `G2/G3: hidden score cells narrowed by the two releases of one refresh (even at the old k_c 2): ${JSON.stringify(narrowed)}`);
});
