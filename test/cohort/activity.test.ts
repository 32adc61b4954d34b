/**
 * Activity as Microsoft defines it (graph-reports.md, "Active users"), one definition per report: the cohorts
 * count a person as an active e-mail user for sending, reading or meeting actions, never for receiving mail.
 * The org score reads the e-mail report for the Adoption Score's own measure, which is narrower by Microsoft's
 * definition (graph-reports.md section 4: Communication and Teamwork count people *sending* e-mail), so a
 * person who only reads mail is an active e-mail user but not an e-mail sender; a person who only receives
 * mail is neither.
 */
import { Readable } from 'node:stream';
import t from 'tap';
import { Directory } from '../../src/cohort/directory.js';
import { activityColumns, aggregateCsvReport, planCohorts } from '../../src/cohort/report-users.js';
import { ScoreFacts } from '../../src/score/score-facts.js';
import { findReport } from '../../src/catalogue/catalogue.js';
import { quoteCsvField } from '../../src/catalogue/csv.js';
import { SampleReports } from '../../src/policy/sample-reports.js';
import { records } from '../redteam/helpers.js';

const EMAIL = findReport('getEmailActivityUserDetail')!;
const COUNTS = ['Send Count', 'Receive Count', 'Read Count', 'Meeting Created Count', 'Meeting Interacted Count'];

/** The simulated e-mail report with the first rows rewritten: receive-only, read-only and send-only people. */
function rewritten(): { csv: string; kinds: Map<string, 'receives' | 'reads' | 'sends'> } {
  const rows = records(new SampleReports({ users: 60 }).csv(EMAIL, 'D30').toString('utf8'));
  const kinds = new Map<string, 'receives' | 'reads' | 'sends'>();
  rows.forEach((row, i) => {
    const kind = i < 10 ? 'receives' : i < 20 ? 'reads' : i < 30 ? 'sends' : undefined;
    if (kind === undefined) return;
    for (const header of COUNTS) row[header] = '0';
    row[kind === 'receives' ? 'Receive Count' : kind === 'reads' ? 'Read Count' : 'Send Count'] = '40';
    kinds.set(row['User Principal Name']!.toLowerCase(), kind);
  });
  const header = Object.keys(rows[0]!);
  const csv = `\uFEFF${[header, ...rows.map((r) => header.map((h) => r[h]!))].map((r) => r.map(quoteCsvField).join(',')).join('\r\n')}\r\n`;
  return { csv, kinds };
}

t.test("an active e-mail user reads, sends or acts on meetings; receiving mail is not activity (Microsoft's definition)", async (t) => {
  t.same(activityColumns(EMAIL).map((c) => c.header), ['Send Count', 'Read Count', 'Meeting Created Count', 'Meeting Interacted Count'], 'the catalogue lists the intentional actions only');
  const { csv, kinds } = rewritten();
  const plan = planCohorts(EMAIL, { cohort: { by: ['organization'] } }, 2, 2);
  const withReceivers = await aggregateCsvReport(Readable.from([csv]), plan, new Directory([]));
  const organisation = withReceivers.table.cells[0]!;
  const rows = records(csv);
  const othersActive = rows.filter((r) => !kinds.has(r['User Principal Name']!.toLowerCase()) && ['Send Count', 'Read Count', 'Meeting Created Count', 'Meeting Interacted Count'].some((h) => Number(r[h]) > 0)).length;
  t.equal(organisation.users, rows.length);
  t.equal(organisation.active, othersActive + 20, 'readers and senders are active; the 10 who only received mail are not');
});

t.test('the org score counts e-mail senders (the Adoption Score measure), never receivers', async (t) => {
  const { csv, kinds } = rewritten();
  const facts = new ScoreFacts();
  await facts.addReport(EMAIL, Readable.from([csv]));
  const sent = (kind: string) => [...kinds].filter(([, k]) => k === kind).map(([upn]) => facts.people.get(upn)!.sentEmail);
  t.same(sent('sends'), Array(10).fill(true), 'senders sent e-mail');
  t.same(sent('reads'), Array(10).fill(false), 'readers are active e-mail users but not senders (Communication counts sending)');
  t.same(sent('receives'), Array(10).fill(false), 'receiving mail is neither');
});
