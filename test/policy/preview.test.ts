import t from 'tap';
import { noisyVendorPolicies } from '../helpers/vendor-policy.js';
import { KeyedRandomBits, sampleDiscreteLaplace } from '../../src/cohort/noise.js';
import { loadPolicySet } from '../../src/policy/load.js';
import { discreteLaplaceMargin95, formatPreview, previewPolicySet, simulatedData, type CohortPreview, type RowsPreview } from '../../src/policy/preview.js';
import { SampleReports } from '../../src/policy/sample-reports.js';

t.test('the 95% margin is the smallest m with P(|noise| <= m) >= 0.95 for the discrete Laplace the proxy samples', async (t) => {
  for (const scale of [0.5, 1, 3, 18, 180]) {
    const p = Math.exp(-1 / scale);
    const within = (m: number) => {
      let sum = 0;
      for (let x = -m; x <= m; x++) sum += ((1 - p) / (1 + p)) * p ** Math.abs(x);
      return sum;
    };
    const m = discreteLaplaceMargin95(scale);
    t.ok(within(m) >= 0.95, `scale ${scale}: m = ${m} covers 95%`);
    if (m > 0) t.ok(within(m - 1) < 0.95, `scale ${scale}: m - 1 does not`);
  }
  // And the sampler agrees: about 95% of 20,000 samples of scale 18 fall within the margin.
  const m = discreteLaplaceMargin95(18);
  let inside = 0;
  for (let i = 0; i < 20_000; i++) if (Math.abs(sampleDiscreteLaplace(18, new KeyedRandomBits(Buffer.alloc(32, 1), [String(i)]))) <= m) inside++;
  t.ok(inside / 20_000 > 0.94 && inside / 20_000 < 0.97, `empirical coverage ${inside / 20_000}`);
});

t.test('preview of the shipped set: no released licence row is unique on its released columns; cohorts carry reasons and margins', async (t) => {
  const loaded = await loadPolicySet('policies');
  t.ok(loaded.ok);
  if (!loaded.ok) return;
  const preview = await previewPolicySet(loaded.set, simulatedData(new SampleReports({ users: 250 })));
  const licence = preview.consumers.find((c) => c.consumer === 'licence-tool')!.reports[0] as RowsPreview;
  t.match(licence, { kind: 'rows', report: 'getOffice365ActiveUserDetail', period: 'D30', rowsIn: 250 });
  t.equal(licence.rowsOut + licence.rowsSuppressed, licence.rowsIn);
  t.equal(licence.risk!.uniqueRows, 0, 'no released row is unique on its released columns');
  t.equal(licence.risk!.belowKRows, 0);
  t.ok(licence.risk!.highestProsecutorRisk <= 1 / 5, 'prosecutor risk at most 1/k');
  t.notOk(licence.risk!.quasiIdentifiers.includes('User Principal Name'), 'the pseudonym is not a quasi-identifier in the risk view');
  const teams = preview.consumers.find((c) => c.consumer === 'adoption-dashboard')!.reports.find((r) => r.report === 'getTeamsUserActivityUserDetail') as CohortPreview;
  t.equal(teams.released + teams.suppressed.primary + teams.suppressed.complement + teams.suppressed.secondary, teams.cells);
  t.ok(teams.lpVerified);
  t.equal(teams.noiseMargin95, undefined, 'the shipped vendor policy is exact: no margin');
  const noisy = await loadPolicySet(await noisyVendorPolicies());
  if (!noisy.ok) throw new Error('the noisy vendor example must load');
  const noisyPreview = await previewPolicySet(noisy.set, simulatedData(new SampleReports({ users: 250 })));
  const noisyTeams = noisyPreview.consumers.find((c) => c.consumer === 'adoption-dashboard')!.reports.find((r) => r.report === 'getTeamsUserActivityUserDetail') as CohortPreview;
  t.equal(noisyTeams.noiseMargin95!.users, 5, 'the margin the noisy example asks for (margin95: 5)');
  t.same([noisyTeams.released, noisyTeams.suppressed], [teams.released, teams.suppressed], 'noise changes no suppression');
  t.same(preview.consumers.find((c) => c.consumer === 'onboarding')!.reports, []);
});

t.test('preview: a consumer that reads the org score is told the score is not measured (before, a score-only reader read "no report released" and nothing more)', async (t) => {
  const { mkdtemp, cp, writeFile, rm } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'policies-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cp('policies', dir, { recursive: true, filter: (source) => !source.includes('/tests') });
  await writeFile(join(dir, 'board-readers.yaml'), 'name: board-readers\ndescription: People who read the adoption dashboard only.\nconsumers: [board-readers]\npermissions: [score]\nreports: {}\n');
  const loaded = await loadPolicySet(dir);
  if (!loaded.ok) throw new Error('the set must load');
  const preview = await previewPolicySet(loaded.set, simulatedData(new SampleReports({ users: 250 })));
  const readers = preview.consumers.find((c) => c.consumer === 'board-readers')!;
  t.same(readers.reports, []);
  t.match(readers.notPreviewed, [/^the org score \(\/org-score and the dashboard, for D7, D30, D90, D180\): not measured here; its groups are hidden below k_org 10/]);
  t.match(formatPreview(preview), /board-readers \(policy board-readers\): no report released\n {2}also reads the org score/);
  t.same(preview.consumers.find((c) => c.consumer === 'licence-tool')!.notPreviewed, [], 'a tool without the score: nothing more');
});
