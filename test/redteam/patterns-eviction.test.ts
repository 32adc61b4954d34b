/**
 * Red team (privacy.md's threat model: consumers keep every release and collude; the policy owner may change
 * policies at any time): the refresh's patterns are bounded (cohort/tables-made.ts CELLS_KEPT, 2,000,000 cells;
 * past it, the pattern least recently suppressed within goes first), and a pattern evicted within its refresh
 * fails open: the next release of the table starts from nothing, so a k or k_c raised then is a new pattern beside
 * the one kept (kc-raise-reload.test.ts's attack), and a widening change is no longer checked against the cells
 * shown. The bound is reached within one refresh by a large tenant: a table by department, office, city and job
 * title of 60,000 people holds up to 240,000 cells, and a consumer reading a few reports' periods and days (each
 * its own pattern) passes 2,000,000 cells with nine of them. Here TablesMade itself (a real proxy would need such a
 * tenant), with tables of one refresh:
 * a table whose release hid DeptC (secondary), then 2,000,000 cells of other tables of the refresh suppressed,
 * then the table again: with a Store (the proxy's default) DeptC starts hidden, the pattern loaded again; without
 * one (a library use of TablesMade, or CohortReleases' default) the release is refused (RefreshPatternsEvicted,
 * 503), where before it was made from nothing and showed DeptC.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openEmbeddedStore } from '../../src/store/embedded-store.js';
import { RefreshPatternsEvicted, TablesMade, type PatternAt } from '../../src/cohort/tables-made.js';
import { errorResponse } from '../../src/server/errors.js';
import type { CohortCell, CohortTable } from '../../src/cohort/table.js';

const REFRESH = '2026-11-29';
const at = (source: string): PatternAt => ({ source, window: 'D30', refreshDate: REFRESH, table: '' });
const cell = (dimension: string, key: string, users: number, active: number): CohortCell => ({ dimension, key: [key], users, active, sums: [], state: 'released' });

/** The organisation and three departments (k = 4, k_c = 2 would hide DeptB, 1 inactive, and DeptC beside it). */
function departments(): CohortTable {
  const cells = [cell('organization', 'all', 33, 27), cell('department', 'DeptA', 11, 9), cell('department', 'DeptB', 13, 12), cell('department', 'DeptC', 9, 6)];
  return { cells, relations: [{ total: 0, parts: [1, 2, 3] }], metrics: [] };
}

/** The first release hides DeptB (complement) and DeptC (secondary); the second is read for what it starts from. */
function releases(made: TablesMade, between: () => void): CohortCell {
  const first = departments();
  made.withinPatterns([{ at: at('getTeamsUserActivityUserDetail'), table: first }], 4, 2, () => {
    first.cells[2]!.state = 'complement';
    first.cells[3]!.state = 'secondary';
  });
  between();
  const second = departments();
  made.withinPatterns([{ at: at('getTeamsUserActivityUserDetail'), table: second }], 4, 3, () => undefined);
  return second.cells[3]!;
}

t.test('control: the second release of the table starts with DeptC hidden', async (t) => {
  const deptC = releases(new TablesMade(), () => undefined);
  t.equal(deptC.state, 'secondary', 'DeptC starts hidden');
  t.equal(deptC.held, true, 'held by the refresh');
});

/** Another report's table of 260,000 cells, every cell under k, suppressed (eight of them pass 2,000,000 kept cells, whatever few hashes collide). */
function otherTable(made: TablesMade, report: number): void {
  const table: CohortTable = { cells: Array.from({ length: 260_000 }, (_, i) => cell('department', `R${report}D${i}`, 1, 1)), relations: [], metrics: [] };
  made.withinPatterns([{ at: at(`report${report}`), table }], 4, 2, () => {
    for (const c of table.cells) c.state = 'primary';
  });
}

t.test('with a Store (the proxy\'s default: embedded files), an evicted pattern is loaded again before the next release', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-redteam-eviction-'));
  const store = await openEmbeddedStore({ ledgerFile: join(dir, 'ledger.jsonl'), historyFile: join(dir, 'history.jsonl') });
  t.teardown(() => store.close());
  const made = new TablesMade(store.refreshPatterns);
  const within = (source: string, run: () => void) => made.shared([{ source, refreshDate: REFRESH }], async () => run());
  const first = departments();
  await within('getTeamsUserActivityUserDetail', () => made.withinPatterns([{ at: at('getTeamsUserActivityUserDetail'), table: first }], 4, 2, () => {
    first.cells[2]!.state = 'complement';
    first.cells[3]!.state = 'secondary';
  }));
  for (let report = 0; report < 8; report++) await within(`report${report}`, () => otherTable(made, report));
  const second = departments();
  await within('getTeamsUserActivityUserDetail', () => made.withinPatterns([{ at: at('getTeamsUserActivityUserDetail'), table: second }], 4, 3, () => undefined));
  t.equal(second.cells[3]!.state, 'secondary', 'DeptC starts hidden');
  t.equal(second.cells[3]!.held, true, 'held by the refresh');
});

t.test('without a Store, 2,000,000 cells of other tables of the refresh suppressed between: the second release is refused, not made from nothing', async (t) => {
  const made = new TablesMade();
  t.throws(
    () => releases(made, () => {
      for (let report = 0; report < 8; report++) otherTable(made, report);
    }),
    RefreshPatternsEvicted,
    "the table's pattern is gone: refused (before: DeptC shown beside the kept release that hid it)",
  );
  // The refusal is the evicted refresh's only: another refresh of the report starts a pattern of its own.
  const next = departments();
  made.withinPatterns([{ at: { ...at('getTeamsUserActivityUserDetail'), refreshDate: '2026-11-30' }, table: next }], 4, 2, () => undefined);
  t.equal(next.cells[3]!.state, 'released', "the next refresh's release is made");
  // What a consumer gets: 503, naming neither the report's refresh nor anything of its data.
  const response = errorResponse(new RefreshPatternsEvicted('getTeamsUserActivityUserDetail', REFRESH));
  t.match(response, { status: 503, code: 'ServiceUnavailable', cause: 'RefreshPatternsEvicted' });
  t.notMatch(response.message, /2026|getTeams/, 'the body names no report or date');
});

t.test('without a Store, evictions of refreshes 35 days older than a newer one are forgotten (bounded memory)', async (t) => {
  const made = new TablesMade();
  const old = departments();
  made.withinPatterns([{ at: at('getTeamsUserActivityUserDetail'), table: old }], 4, 2, () => undefined);
  // A refresh 36 days later fills the memory twice over: the old pattern is evicted, then forgotten as evicted.
  const later = (report: number) => {
    const table: CohortTable = { cells: Array.from({ length: 260_000 }, (_, i) => cell('department', `R${report}D${i}`, 1, 1)), relations: [], metrics: [] };
    made.withinPatterns([{ at: { ...at(`report${report}`), refreshDate: '2027-01-04' } , table }], 4, 2, () => {
      for (const c of table.cells) c.state = 'primary';
    });
  };
  for (let report = 0; report < 9; report++) later(report);
  const again = departments();
  made.withinPatterns([{ at: at('getTeamsUserActivityUserDetail'), table: again }], 4, 2, () => undefined);
  t.equal(again.cells[3]!.state, 'released', 'a refresh more than 35 days older than the newest evicted one is no longer refused');
});
