/**
 * Fuzzing what Graph might send (fast-check): a simulated report mutated by reordering, duplicating or adding
 * columns, quotes, CRLF and LF, a missing or doubled BOM, empty cells, a huge field and short rows. The
 * sanitiser either refuses (a SanitizeError, which the proxy turns into a 502 before any byte) or releases a
 * well-formed CSV with only the released columns and no identifier of the tenant; never raw input.
 */
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import t from 'tap';
import { sanitizeCsvReport, validateCsvReport } from '../../src/sanitize/csv-report.js';
import { SanitizeError } from '../../src/sanitize/errors.js';
import { planRows } from '../../src/sanitize/plan.js';
import { parseKeyring, pseudonymizer } from '../../src/sanitize/pseudonyms.js';
import { emptyStats } from '../../src/sanitize/stats.js';
import { chunked, collect, renderReport } from '../helpers/report-fixtures.js';

const report = renderReport('getOffice365ActiveUserDetail', { canary: true, users: 40 });
const marker = report.tenant.canaryMarker!;
const pseudonymize = pseudonymizer(parseKeyring(`k=${Buffer.alloc(32, 2).toString('base64')}`), { keyId: 'k', epoch: 1, consumer: 'c' });
const plan = planRows(report.spec, { rows: { 'User Principal Name': 'pseudonymize', 'Assigned Products': 'keep', 'Is Deleted': 'keep', 'Teams Last Activity Date': { generalize: 'month' } }, quasiIdentifiers: [] }, 2, { kC: 5, pseudonymize });
const RELEASED = ['User Principal Name', 'Is Deleted', 'Teams Last Activity Date', 'Assigned Products'];
const rows = parse(report.csv.slice(1)) as string[][];

/** Mostly absent: a mutation that makes the report unreadable should be the exception, not the rule. */
const rarely = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary: arb, weight: 1 });

const mutation = fc.record({
  order: fc.shuffledSubarray(rows[0]!.map((_, i) => i), { minLength: rows[0]!.length, maxLength: rows[0]!.length }),
  duplicate: rarely(fc.nat(rows[0]!.length - 1)),
  extra: fc.boolean(),
  lineEnd: fc.constantFrom('\r\n', '\n'),
  bom: fc.constantFrom('', '\uFEFF', '\uFEFF\uFEFF'),
  quoteAll: fc.boolean(),
  emptyCells: fc.array(fc.tuple(fc.nat(40), fc.nat(30)), { maxLength: 5 }),
  hugeField: rarely(fc.tuple(fc.nat(40), fc.nat(30))),
  shortRow: rarely(fc.nat(40)),
  garbage: rarely(fc.tuple(fc.nat(2000), fc.constantFrom('"', '\r', '\u0000', ',,,', 'canary'))),
  chunk: fc.integer({ min: 1, max: 5000 }),
});

t.test('upstream CSV fuzzing: well-formed and sanitised output, or a clean refusal; never raw', async (t) => {
  let released = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(mutation, async (m) => {
      let table = rows.map((r) => m.order.map((i) => r[i]!));
      if (m.duplicate !== undefined) table = table.map((r) => [...r, r[m.duplicate! % r.length]!]);
      if (m.extra) table = table.map((r, i) => [...r, i === 0 ? 'Brand New Column' : `${marker}.extra${i}@x.example`]);
      for (const [row, column] of m.emptyCells) if (row + 1 < table.length) table[row + 1]![column % table[0]!.length] = '';
      if (m.hugeField !== undefined && m.hugeField[0] + 1 < table.length) table[m.hugeField[0] + 1]![m.hugeField[1] % table[0]!.length] = 'x'.repeat(200_000);
      if (m.shortRow !== undefined && m.shortRow + 1 < table.length) table[m.shortRow + 1] = table[m.shortRow + 1]!.slice(1);
      const cell = (f: string) => (m.quoteAll || /[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f);
      let text = m.bom + table.map((r) => r.map(cell).join(',')).join(m.lineEnd) + m.lineEnd;
      if (m.garbage !== undefined) text = text.slice(0, m.garbage[0] % text.length) + m.garbage[1] + text.slice(m.garbage[0] % text.length);
      let out: string;
      try {
        await validateCsvReport(chunked(text, m.chunk), report.spec);
        out = await collect(sanitizeCsvReport(() => chunked(text, m.chunk), plan, emptyStats(), { validated: true }));
      } catch (error) {
        if (!(error instanceof SanitizeError)) throw error;
        refused++;
        return !error.message.toLowerCase().includes(marker);
      }
      released++;
      if (out.toLowerCase().includes(marker)) throw new Error('a canary identifier was released');
      const parsed = parse(out, { bom: true }) as string[][];
      if (JSON.stringify(parsed[0]) !== JSON.stringify(RELEASED)) throw new Error(`unexpected header ${JSON.stringify(parsed[0])}`);
      return parsed.every((r) => r.length === RELEASED.length) && parsed.slice(1).every((r) => /^k\.1\.|^$/.test(r[0]!));
    }),
    { numRuns: 150 },
  );
  t.ok(released > 10 && refused > 10, `both outcomes occur (released ${released}, refused ${refused})`);
});
