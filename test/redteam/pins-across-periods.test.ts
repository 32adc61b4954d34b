/**
 * Red team (privacy.md's threat model: consumers "know who joined or left", "keep every response they ever got",
 * vary the period, and may collude): where the score's reports are pinned to two directories it is released for
 * the organisation only (cohort/sources.ts DirectoryPins.pinnedApart; score/org-scores.ts), but pinnedApart is
 * asked about the refresh dates of the score's own window only. Another window of one of its reports, read as
 * cohorts before a directory change, is not asked about, and its data nests in the score's: whoever had OneDrive
 * file activity in the last 7 days did in the last 30, and where nobody syncs files, OneDrive activity is what
 * Content collaboration counts (test/redteam/linked-pins-mismatch.test.ts's tie, across periods).
 *
 * Two tools (k = 10, k_c = 5): one reads OneDrive cohorts by department over 7 days, the other the score by
 * department over 30 days. Graph refreshed the 7-day OneDrive download a day before the 30-day reports, so their
 * dates are pinned apart. DeptA (OfficeP) 20 people, 6 of them never working with files; DeptB (OfficeQ) 20, 5
 * without; DeptC (OfficeR) 25 and 12 outside the directory, all with files; the same over 7 and 30 days. The first
 * tool reads DeptA's OneDrive cohort over 7 days (20 people, 14 active); `mover` (DeptA, with files) moves to
 * DeptB; the second reads the score over 30 days: DeptA's Content collaboration is 13 of 19 qualifying. The 19
 * who stayed had at most 13 people with files over 30 days, so at most 13 over 7: the 14th active in DeptA's
 * 7-day cohort is the mover. The mover's OneDrive activity, named.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startGraphDouble } from '../helpers/graph-double.js';
import { KEYS, startProxyFor } from '../helpers/proxy-stack.js';
import { directoryOf, peopleOf, tenantReports, type Person, type RandomTenant } from '../helpers/random-tenant.js';
import { rewriteColumn } from './helpers.js';
import type { Cohorts } from './linked-tenant.js';

t.setTimeout(120_000);

/** A finding's one line, or false to run the attack (GPP_REDTEAM_TODO=run shows it fail). */
const todo = (finding: string) => (process.env.GPP_REDTEAM_TODO === 'run' ? false : finding);

const ONEDRIVE = 'getOneDriveActivityUserDetail';
const person = (files: boolean): Person => ({ idle: false, mail: true, files, mobile: true, video: true });
const people = (without: number, withFiles: number): Person[] => [...Array<Person>(without).fill(person(false)), ...Array<Person>(withFiles).fill(person(true))];
const TENANT: RandomTenant = {
  departments: 3, offices: 3, k: 10, kC: 5, kOrg: 10,
  crosses: [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ people: i === 0 ? people(6, 14) : i === 4 ? people(5, 15) : i === 8 ? people(0, 25) : [], ghosts: 0 })),
  outsiders: people(0, 12),
};

const COHORT_POLICY = `name: onedrive-weekly
description: OneDrive cohorts by department over the last 7 days (red-team fixture).
consumers: [onboarding]
k: 10
kC: 5
periods: [D7]
formats: [csv, json]
reports:
  ${ONEDRIVE}:
    cohort:
      by: [organization, department]
`;
const SCORE_POLICY = `name: score-monthly
description: The org score by department over the last 30 days (red-team fixture).
consumers: [no-policy]
k: 10
kC: 5
kOrg: 10
periods: [D30]
formats: [csv, json]
permissions: [score]
reports:
  getEmailActivityUserDetail:
    cohort:
      by: [organization, department]
`;

const dayBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
type Score = { cohorts: { cohort: string[]; categories: { id: string; numerator: number | null; denominator: number | null }[] }[] };

t.test('OneDrive cohorts over 7 days read before a move, the score over 30 days after it: the mover\'s OneDrive activity is read off', { todo: todo('pinnedApart asks about the score window\'s own dates: a 7-day OneDrive cohort pinned before a move and the 30-day score after it name the mover as active (DeptA 14/20 vs 13/19)') }, async (t) => {
  const reports: Record<string, Buffer> = {};
  for (const [name, csv] of Object.entries(await tenantReports(TENANT))) {
    // Nobody syncs files (the OneDrive report's other activity).
    const text = name === ONEDRIVE ? rewriteColumn(csv.toString('utf8'), 'Synced File Count', () => '0').toString('utf8') : csv.toString('utf8');
    reports[`${name}(period='D30')`] = Buffer.from(text);
    // Graph refreshed the 7-day OneDrive download a day before the 30-day reports.
    if (name === ONEDRIVE) reports[`${name}(period='D7')`] = rewriteColumn(rewriteColumn(text, 'Report Period', () => '7').toString('utf8'), 'Report Refresh Date', dayBefore);
  }
  const directory = directoryOf(TENANT);
  const double = await startGraphDouble({ reports, directory });
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-pins-periods-'));
  await writeFile(join(dir, 'onedrive-weekly.yaml'), COHORT_POLICY);
  await writeFile(join(dir, 'score-monthly.yaml'), SCORE_POLICY);
  const proxy = await startProxyFor(double, { proxy: { policiesDir: dir, directoryTtlSeconds: 0 } });
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  const cohorts = await proxy.get(`/cohorts/${ONEDRIVE}?period=D7&by=department&format=json`, KEYS.onboarding);
  t.equal(cohorts.status, 200, 'the first tool reads the 7-day OneDrive cohorts by department');
  const od = (JSON.parse(cohorts.body.toString()) as Cohorts).value.find((r) => r.dimension === 'department' && r.cohort[0] === 'DeptA')!;
  t.same([od.users, od.activeUsers], [20, 14], 'DeptA: 20 people, 14 active in OneDrive over 7 days');
  // The last of DeptA (with files) moves to DeptB.
  const mover = peopleOf(TENANT).filter((p) => p.department === 'DeptA').at(-1)!.upn;
  directory.value = directory.value.map((u) => (u.userPrincipalName === mover ? { ...u, department: 'DeptB', officeLocation: 'OfficeQ' } : u));
  const score = await proxy.get('/org-score?period=D30&by=department', KEYS.stranger);
  if (score.status !== 200) {
    t.comment(`the score by department after the move: ${score.status} ${score.body.toString()}`);
    t.pass('the score by department is not released after the move');
    return;
  }
  const content = (JSON.parse(score.body.toString()) as Score).cohorts.find((c) => c.cohort[0] === 'DeptA')!.categories.find((c) => c.id === 'contentCollaboration')!;
  t.comment(`OneDrive DeptA over 7 days ${od.activeUsers}/${od.users} (before the move); Content collaboration DeptA over 30 days ${content.numerator}/${content.denominator} (after it)`);
  // Those who stayed in DeptA: active over 7 days <= qualifying over 30 days (the released numerator).
  const moverActiveAtLeast = content.numerator === null ? 0 : od.activeUsers! - content.numerator;
  t.ok(moverActiveAtLeast < 1, `the mover's OneDrive activity over 7 days is not pinned to "active" (read: at least ${moverActiveAtLeast} of 1)`);
});
