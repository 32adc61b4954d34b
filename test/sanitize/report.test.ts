import { parse } from 'csv-parse/sync';
import t from 'tap';
import { findColumn } from '../../src/catalogue/catalogue.js';
import { fromCsvText, fromJsonValue } from '../../src/catalogue/values.js';
import type { PolicyDocument } from '../../src/policy/schema.js';
import { sanitizeCsvReport, validateCsvReport } from '../../src/sanitize/csv-report.js';
import { JsonItemSanitizer } from '../../src/sanitize/json-report.js';
import { planRows, type RowsRule } from '../../src/sanitize/plan.js';
import { parseKeyring, pseudonymizer } from '../../src/sanitize/pseudonyms.js';
import { emptyStats, QuasiClasses, type SanitizeStats } from '../../src/sanitize/stats.js';
import { chunked, collect, renderReport } from '../helpers/report-fixtures.js';

const keyring = parseKeyring(`licence-tool=${Buffer.alloc(32, 3).toString('base64')}`);
const pseudonymize = pseudonymizer(keyring, { keyId: 'licence-tool', epoch: 1, consumer: 'licence-tool' });

const LICENCE_RULE: RowsRule = {
  rows: {
    'User Principal Name': 'pseudonymize',
    'Is Deleted': 'keep',
    'Assigned Products': 'keep',
    'Has Teams License': 'keep',
    'Teams Last Activity Date': { generalize: 'month' },
    'Display Name': 'drop',
  },
  quasiIdentifiers: ['Assigned Products', 'Is Deleted'],
};

const report = renderReport('getOffice365ActiveUserDetail', { canary: true, users: 300 });
const plan = planRows(report.spec, LICENCE_RULE, 5, { kC: 5, pseudonymize });

async function sanitizeCsv(csv: string, rule: RowsRule = LICENCE_RULE, stats: SanitizeStats = emptyStats()): Promise<string> {
  const p = planRows(report.spec, rule, 5, { kC: 5, pseudonymize });
  return collect(sanitizeCsvReport(() => chunked(csv, 777), p, stats));
}

function sanitizeJson(items: Record<string, unknown>[], stats: SanitizeStats = emptyStats()) {
  const classes = new QuasiClasses(plan.k);
  JsonItemSanitizer.count(plan, items, classes);
  return new JsonItemSanitizer(plan, stats, classes).sanitize(items);
}

t.test('releases only the columns the rule names, in Graph order, with BOM and CRLF', async (t) => {
  const out = await sanitizeCsv(report.csv);
  t.ok(out.startsWith('\uFEFF'), 'starts with the BOM');
  const [header] = parse(out, { bom: true, to_line: 1 }) as string[][];
  const expected = report.spec.columns.filter((c) => ['User Principal Name', 'Is Deleted', 'Assigned Products', 'Has Teams License', 'Teams Last Activity Date'].includes(c.header)).map((c) => c.header);
  t.same(header, expected);
  t.ok(out.endsWith('\r\n'));
});

t.test('G9: no canary identifier survives; pseudonyms replace the UPN; dates become months', async (t) => {
  const out = await sanitizeCsv(report.csv);
  t.notOk(out.toLowerCase().includes(report.tenant.canaryMarker!), 'no canary marker in the output');
  const rows = parse(out, { bom: true, columns: true }) as Record<string, string>[];
  t.ok(rows.length > 100);
  for (const row of rows) {
    t.match(row['User Principal Name'], /^licence-tool\.1\.[A-Za-z0-9_-]{43}$/);
    t.match(row['Teams Last Activity Date'], /^(|\d{4}-\d{2}-01)$/);
  }
});

t.test('quasi-identifiers: every released combination occurs at least k times, and rare ones are suppressed', async (t) => {
  const stats = emptyStats();
  const out = await sanitizeCsv(report.csv, LICENCE_RULE, stats);
  const rows = parse(out, { bom: true, columns: true }) as Record<string, string>[];
  const counts = new Map<string, number>();
  for (const row of rows) {
    const key = `${row['Assigned Products']}|${row['Is Deleted']}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [key, n] of counts) t.ok(n >= 5, `combination ${key} occurs ${n} times`);
  t.ok(stats.rowsSuppressed > 0, 'the simulated tenant has rare licence combinations, and they were suppressed');
  t.equal(stats.rowsIn, stats.rowsOut + stats.rowsSuppressed);
  t.equal(rows.length, stats.rowsOut);
});

t.test('CSV and JSON release the same rows with the same values', async (t) => {
  const csvRows = parse(await sanitizeCsv(report.csv), { bom: true, columns: true }) as Record<string, string>[];
  const jsonItems = sanitizeJson(report.items);
  t.equal(jsonItems.length, csvRows.length);
  csvRows.forEach((row, i) => {
    const item = jsonItems[i]!;
    for (const [header, text] of Object.entries(row)) {
      const column = findColumn(report.spec, header)!;
      const fromCsv = column.role === 'identifier' || column.kind === 'date' ? (text === '' ? null : text) : fromCsvText(column, text);
      const fromJson = column.role === 'identifier' || column.kind === 'date' ? item[column.json] : fromJsonValue(column, item[column.json]);
      t.same(fromJson, fromCsv, `${header} of row ${i}`);
    }
  });
});

t.test('an unknown upstream column is dropped and counted; reordered columns give identical bytes', async (t) => {
  const plain = await sanitizeCsv(report.csv);
  const extra = renderReport('getOffice365ActiveUserDetail', { canary: true, users: 300, extraColumn: true });
  const stats = emptyStats();
  t.equal(await sanitizeCsv(extra.csv, LICENCE_RULE, stats), plain);
  t.equal(stats.unknownColumns, 1);
  t.equal(stats.columnsDropped, extra.spec.columns.length + 1 - 5);
  const rows = parse(report.csv, { bom: true }) as string[][];
  const order = rows[0]!.map((_, i) => i).reverse();
  const reordered = '\uFEFF' + rows.map((r) => order.map((i) => JSON.stringify(r[i]!)).join(',')).join('\n') + '\n';
  t.equal(await sanitizeCsv(reordered), plain, 'G13: the same data in another column order gives the same bytes');
});

t.test('fails closed: missing released column, wrong cell type, short row — errors carry no cell content', async (t) => {
  const rows = parse(report.csv, { bom: true }) as string[][];
  const write = (rs: string[][]) => '\uFEFF' + rs.map((r) => r.map((f) => JSON.stringify(f)).join(',')).join('\r\n') + '\r\n';
  const withoutTeams = rows.map((r) => r.filter((_, i) => rows[0]![i] !== 'Has Teams License'));
  await t.rejects(sanitizeCsv(write(withoutTeams)), { code: 'MissingColumn' });
  const isDeleted = rows[0]!.indexOf('Is Deleted');
  const upn = rows[1]![rows[0]!.indexOf('User Principal Name')]!;
  const wrongType = rows.map((r, i) => (i === 3 ? r.map((f, j) => (j === isDeleted ? upn : f)) : r));
  const error = await sanitizeCsv(write(wrongType)).catch((e: Error) => e);
  t.match(error, { code: 'UnexpectedValue' });
  t.notOk((error as Error).message.includes(upn), 'the message does not echo the value');
  const short = rows.map((r, i) => (i === 2 ? r.slice(1) : r));
  await t.rejects(sanitizeCsv(write(short)), { code: 'MalformedCsv', message: /row 3 has/ });
  await t.rejects(validateCsvReport(chunked(write(wrongType)), report.spec), { code: 'UnexpectedValue' });
  t.equal(await validateCsvReport(chunked(report.csv), report.spec), rows.length - 1);
});

t.test('nested JSON reports: released nested properties stay inside their array', async (t) => {
  const apps = renderReport('getM365AppUserDetail', { users: 40 });
  const rule: RowsRule = { rows: { 'User Principal Name': 'pseudonymize', 'Report Period': 'keep', Windows: 'keep' }, quasiIdentifiers: [] };
  const p = planRows(apps.spec, rule, 5, { kC: 5, pseudonymize });
  const stats = emptyStats();
  const items = new JsonItemSanitizer(p, stats).sanitize(apps.items);
  t.equal(items.length, apps.items.length);
  const first = items[0]!;
  t.same(Object.keys(first).sort(), ['details', 'userPrincipalName']);
  const details = first.details as Record<string, unknown>[];
  t.ok(details.length > 0);
  t.same(Object.keys(details[0]!).sort(), ['reportPeriod', 'windows']);
  t.equal(typeof details[0]!.reportPeriod, 'number');
  const csv = await collect(sanitizeCsvReport(() => chunked(apps.csv), p, emptyStats()));
  const csvRows = parse(csv, { bom: true }).slice(1) as string[][];
  t.equal(csvRows.length, items.reduce((n, i) => n + (i.details as unknown[]).length, 0), 'one CSV row per nested element');
});

t.test('JSON items that are not objects, or miss a released property, are refused', async (t) => {
  t.throws(() => sanitizeJson([...report.items.slice(0, 3), 'x' as unknown as Record<string, unknown>]));
  const { isDeleted: _drop, ...withoutDeleted } = report.items[0]!;
  t.throws(() => new JsonItemSanitizer(planRows(report.spec, { rows: { 'Is Deleted': 'keep' }, quasiIdentifiers: [] }, 5, { kC: 5 }), emptyStats()).sanitize([withoutDeleted]), { code: 'MissingColumn' });
});

const policyTypeCheck: PolicyDocument['reports'][string] = LICENCE_RULE;
void policyTypeCheck;
