/**
 * validateCsvReport checks cells where they lie in the decoded text (plan.ts csvCellCheck) instead of splitting
 * every row into strings. Specification: it accepts and refuses exactly what reading every row into fields and
 * checking each known cell with checkCsv does (the reference below, the validation before issue 18), with the
 * same error (code and message), the same row count, the same user-name forms and the same cells handed on.
 */
import fc from 'fast-check';
import t from 'tap';
import { columnsFor } from '../../src/catalogue/catalogue.js';
import { NameForms } from '../../src/catalogue/identifiers.js';
import { readCsvBatches, validateCsvReport, type CsvLayout } from '../../src/sanitize/csv-report.js';
import { checkCsv, csvCellCheck, csvCellEnd, csvCellFits, csvCellKind } from '../../src/sanitize/plan.js';
import { chunked, renderReport } from '../helpers/report-fixtures.js';

/** The validation as it was: every row read into fields, then every known cell checked in row order. */
async function reference(source: AsyncIterable<Buffer>, report: ReturnType<typeof renderReport>['spec'], names: NameForms, columns?: readonly string[]) {
  const kept: string[][] = [];
  let rows = 0;
  let layout: CsvLayout = [];
  for await (const batch of readCsvBatches(source, report)) {
    layout = batch.layout ?? layout;
    const upn = layout.findIndex((c) => c?.json === 'userPrincipalName');
    const keep = layout.flatMap((c, i) => (c !== undefined && (columns === undefined || columns.includes(c.header) || c.json === 'userPrincipalName') ? [i] : []));
    for (const fields of batch.rows) for (const [i, column] of layout.entries()) if (column !== undefined) checkCsv(column, fields[i]!);
    for (const fields of batch.rows) {
      if (upn !== -1) names.add(fields[upn]!);
      kept.push(keep.map((i) => fields[i]!));
    }
    rows += batch.rows.length;
  }
  return { rows, kept };
}

async function inPlace(source: AsyncIterable<Buffer>, report: ReturnType<typeof renderReport>['spec'], names: NameForms, columns?: readonly string[]) {
  const kept: string[][] = [];
  const rows = await validateCsvReport(source, report, names, (batch) => kept.push(...batch.rows), columns);
  return { rows, kept };
}

const outcome = async (run: () => Promise<unknown>) => {
  try {
    return { ok: await run() };
  } catch (error) {
    return { error: { name: (error as Error).name, code: (error as { code?: string }).code, message: (error as Error).message } };
  }
};

/** Cells that test the edges of each checked kind (and some that no kind accepts). */
const ODD_CELLS = [
  '', '0', '-0', '-', '--1', '+1', '1.5', '1e3', ' 1', '1 ', '١٢', '00012', '2026-11-29', '2026-1-29', '2026-11-29 ', '20261129', '２０２６-11-29',
  'Yes', 'YES', 'yEs', 'no', 'NO', 'True', 'FALSE', 'tru', 'yes ', 'Ye', 'K', 'İ', 'PT0S', 'PT', 'P', 'P1D', 'P1DT', 'PT1H2M3S', 'PT1.5S', 'PT1S2M',
  'P1DT2H', 'PT-1S', 'pt1s', 'PT1H1H', '9e9b84a1-57ad-4b84-b25c-60d4bf5b1f1f', '9E9B84A1-57AD-4B84-B25C-60D4BF5B1F1F', '9e9b84a1-57ad-4b84-b25c-60d4bf5b1f1', '9e9b84a1_57ad-4b84-b25c-60d4bf5b1f1f',
  'g9e9b84a-57ad-4b84-b25c-60d4bf5b1f1f', 'x\u00e9', '\u0000', 'a@b.c', '(Unknown)', '0123456789ABCDEF0123456789ABCDEF',
];

for (const name of ['getTeamsUserActivityUserDetail', 'getOffice365ActiveUserDetail', 'getTeamsDeviceUsageUserDetail']) {
  const report = renderReport(name, { users: 30 });
  const lines = report.csv.slice(1).split('\r\n').filter((line) => line !== '');
  const width = lines[0]!.split(',').length;
  const edit = fc.record({
    cells: fc.array(fc.tuple(fc.nat(lines.length - 2), fc.nat(width - 1), fc.constantFrom(...ODD_CELLS)), { maxLength: 4 }),
    quoted: fc.array(fc.tuple(fc.nat(lines.length - 2), fc.nat(width - 1)), { maxLength: 3 }),
    short: fc.option(fc.nat(lines.length - 2), { nil: undefined }),
    lineEnd: fc.constantFrom('\r\n', '\n'),
    chunk: fc.integer({ min: 1, max: 3000 }),
    narrow: fc.boolean(),
  });
  t.test(`${name}: in-place validation refuses and accepts exactly what checking every cell did`, async (t) => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(edit, async (e) => {
        const table = lines.map((line) => line.split(','));
        for (const [row, column, text] of e.cells) table[row + 1]![column] = text;
        const quote = new Set(e.quoted.map(([row, column]) => `${row + 1} ${column}`));
        if (e.short !== undefined) table[e.short + 1]!.pop();
        const text = '\uFEFF' + table.map((r, i) => r.map((f, j) => (quote.has(`${i} ${j}`) ? `"${f}"` : f)).join(',')).join(e.lineEnd) + e.lineEnd;
        const columns = e.narrow ? ['Report Refresh Date', columnsFor(report.spec, 'csv')[3]!.header] : undefined;
        const namesBefore = new NameForms();
        const namesNow = new NameForms();
        const before = await outcome(() => reference(chunked(text, e.chunk), report.spec, namesBefore, columns));
        const now = await outcome(() => inPlace(chunked(text, e.chunk), report.spec, namesNow, columns));
        if ('error' in before) refused++;
        t.same(now, before, JSON.stringify(e));
        if ('ok' in before) t.same(namesNow, namesBefore, 'the same user-name forms');
        return true;
      }),
      { numRuns: 120 },
    );
    t.ok(refused > 10, `refusals occur (${refused})`);
  });
}

t.test('csvCellCheck agrees with checkCsv on every odd cell of every checked kind', async (t) => {
  for (const column of columnsFor(renderReport('getTeamsUserActivityUserDetail', { users: 2 }).spec, 'csv')) {
    const check = csvCellCheck(column);
    for (const text of ODD_CELLS) {
      const before = await outcome(async () => checkCsv(column, text));
      const padded = `,,${text},`;
      const now = await outcome(async () => check?.(padded, 2, 2 + text.length));
      t.same(now, before, `${column.header} (${column.kind}): ${JSON.stringify(text)}`);
    }
  }
});

t.test('csvCellEnd finds a cell\'s end only where the cell is its first comma away and plainly fits (csvCellFits)', async (t) => {
  for (const column of columnsFor(renderReport('getTeamsUserActivityUserDetail', { users: 2 }).spec, 'csv')) {
    const kind = csvCellKind(column);
    if (kind === 0) continue;
    for (const text of ODD_CELLS) {
      for (const after of ['', ',', ',1,2', 'x,', '0,', '\r']) {
        const line = `a,${text}${after}`;
        const stop = line.length;
        const comma = line.indexOf(',', 2) === -1 ? stop : line.indexOf(',', 2);
        const end = csvCellEnd(kind, line, 2, stop);
        if (end === -1) continue;
        t.equal(end, comma, `${column.kind} ${JSON.stringify(line)}: the cell's first comma or the line's end`);
        t.ok(end === 2 || csvCellFits(kind, line, 2, end), `${column.kind} ${JSON.stringify(line)}: a cell csvCellFits accepts`);
      }
    }
  }
});
