import t from 'tap';
import { findReport, type ColumnSpec } from '../../src/catalogue/catalogue.js';
import { smallCountRule, smallCountsToEmpty } from '../../src/sanitize/small-counts.js';

function emptied(reportName: string, values: Record<string, number | null>, k = 5, kC = 5): string[] {
  const rule = smallCountRule(findReport(reportName)!, k, kC)!;
  const valueOf = (c: ColumnSpec) => values[c.header] ?? null;
  return [...smallCountsToEmpty(rule, valueOf)].map((c) => c.header).sort();
}

t.test('counts of 1..k-1 are emptied; 0 and no data stay as they are; bytes are not counts of anyone', async (t) => {
  t.same(emptied('getTeamsUserActivityUserCounts', { 'Team Chat Messages': 3, 'Private Chat Messages': 0, Calls: null, Meetings: 40 }), ['Team Chat Messages']);
  t.same(emptied('getMailboxUsageStorage', { 'Storage Used (Byte)': 2 }), []);
  t.equal(smallCountRule(findReport('getOffice365ActiveUserDetail')!, 5, 5), undefined, 'only counts reports');
});

t.test('G2 in counts reports: an active/inactive pair is emptied together when either side is small', async (t) => {
  t.same(emptied('getOffice365ServicesUserCounts', { 'Exchange Active': 400, 'Exchange Inactive': 3, 'Teams Active': 200, 'Teams Inactive': 150 }), ['Exchange Active', 'Exchange Inactive']);
  t.same(emptied('getOffice365ServicesUserCounts', { 'Exchange Active': 400, 'Exchange Inactive': 7 }, 10, 5), ['Exchange Active', 'Exchange Inactive'], 'an emptied inactive side (k = 10) takes the active side along, or a known total would give it back');
  t.same(emptied('getMailboxUsageMailboxCounts', { Total: 300, Active: 298 }), ['Active'], 'all but 2 active: the active count goes (the total stays)');
  t.same(emptied('getMailboxUsageMailboxCounts', { Total: 300, Active: 200 }), []);
});
