import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import t from 'tap';
import { CsvRowReader, MAX_ROW_CHARS } from '../../src/sanitize/csv-rows.js';
import { SanitizeError } from '../../src/sanitize/errors.js';

/** Reads `bytes` split at the given byte offsets (which may fall inside a multi-byte character). */
function readAll(bytes: Buffer, cuts: readonly number[]): string[][] {
  const rows: string[][] = [];
  const reader = new CsvRowReader((fields) => rows.push(fields));
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    reader.push(bytes.subarray(from, cut));
    from = cut;
  }
  reader.push(bytes.subarray(from));
  reader.end();
  return rows;
}

const fieldText = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r', 'é', '😀', 'Z'), maxLength: 12 });

function encode(field: string, forceQuotes: boolean): string {
  return forceQuotes || /[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

const csvDocument = fc.record({
  rows: fc.array(fc.array(fc.tuple(fieldText, fc.boolean()), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 12 }),
  lineEnd: fc.constantFrom('\n', '\r\n'),
  trailingLineEnd: fc.boolean(),
  bom: fc.boolean(),
});

t.test('reads the same rows as csv-parse on random well-formed CSV (quotes, embedded newlines, CRLF, BOM, chunk splits)', async (t) => {
  fc.assert(
    fc.property(csvDocument, fc.array(fc.nat(), { maxLength: 6 }), (doc, cutSeeds) => {
      const lines = doc.rows.map((row) =>
        row.map(([field, quoted]) => encode(field, quoted || (row.length === 1 && field === ''))).join(','),
      );
      const text = (doc.bom ? '\uFEFF' : '') + lines.join(doc.lineEnd) + (doc.trailingLineEnd ? doc.lineEnd : '');
      const bytes = Buffer.from(text, 'utf8');
      const cuts = cutSeeds.map((s) => s % (bytes.length + 1));
      const expected = parse(text, { bom: true, relax_column_count: true, record_delimiter: ['\r\n', '\n'] }) as string[][];
      t.same(readAll(bytes, cuts), expected);
      return true;
    }),
    { numRuns: 400 },
  );
});

t.test('on arbitrary text it either agrees with csv-parse or refuses with MalformedCsv, never a third outcome', async (t) => {
  let refused = 0;
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('a', ',', '"', '\n'), maxLength: 30 }), (text) => {
      let expected: string[][] | undefined;
      try {
        expected = parse(text, { relax_column_count: true, record_delimiter: ['\n'] }) as string[][];
      } catch {
        expected = undefined;
      }
      let actual: string[][] | undefined;
      try {
        actual = readAll(Buffer.from(text), []);
      } catch (error) {
        if (!(error instanceof SanitizeError) || error.code !== 'MalformedCsv') throw error;
        actual = undefined;
        refused++;
      }
      if (expected !== undefined && actual !== undefined) t.same(actual, expected);
      else t.equal(actual, expected, `both refuse: ${JSON.stringify(text)}`);
      return true;
    }),
    { numRuns: 400 },
  );
  t.ok(refused > 0, 'the generator produced malformed inputs too');
});

t.test('refuses malformed rows with a message that names the row, never its content', async (t) => {
  const secret = 'anna.secret@contoso.example';
  for (const text of [`a,b\n"${secret},x\n`, `a,b\n${secret}"x,y\n`, `a,b\n"${secret}"x,y\n`]) {
    const error = t.throws(() => readAll(Buffer.from(text), [])) as unknown as SanitizeError;
    t.equal(error.code, 'MalformedCsv');
    t.match(error.message, /^row 2 /);
    t.notMatch(error.message, /anna/);
  }
});

t.test('an unterminated quote cannot make the reader buffer without bound', async (t) => {
  const reader = new CsvRowReader(() => {});
  reader.push('a,b\n"');
  const chunk = 'x'.repeat(64 * 1024);
  t.throws(() => {
    for (let i = 0; i < MAX_ROW_CHARS / chunk.length + 2; i++) reader.push(chunk);
  }, { code: 'MalformedCsv' });
});

t.test('numbers rows from 1 (the header) and strips one leading BOM only', async (t) => {
  const seen: [string[], number][] = [];
  const reader = new CsvRowReader((fields, n) => seen.push([fields, n]));
  reader.push(Buffer.from('\uFEFFh1,h2\r\n\uFEFFx,y\r\n'));
  reader.end();
  t.same(seen, [[['h1', 'h2'], 1], [['\uFEFFx', 'y'], 2]]);
});

t.test('a long row in small chunks is read in linear work: the carried start of a row is not searched again for each chunk', async (t) => {
  // Characters searched by String.prototype.indexOf while the reader runs (the reader's scans are indexOf calls).
  let scanned = 0;
  const indexOf = String.prototype.indexOf;
  String.prototype.indexOf = function (this: string, search: string, from?: number) {
    scanned += this.length - Math.max(0, Math.min(from ?? 0, this.length));
    return indexOf.call(this, search, from);
  };
  const rows: string[][] = [];
  try {
    for (const quoted of [false, true]) {
      const long = quoted ? `"${'x,'.repeat(50_000)}"` : 'x'.repeat(100_000);
      const text = `a,b\r\n1,${long}\r\n2,3\r\n`;
      const reader = new CsvRowReader((fields) => rows.push(fields));
      scanned = 0;
      for (let at = 0; at < text.length; at += 7) reader.push(Buffer.from(text.slice(at, at + 7)));
      reader.end();
      // The quadratic reader searched the carried row again for every chunk: about 100,000^2 / 14 characters.
      t.ok(scanned < 10 * text.length, `${quoted ? 'quoted' : 'unquoted'}: ${scanned} characters searched for a ${text.length}-character text`);
    }
  } finally {
    String.prototype.indexOf = indexOf;
  }
  t.same(rows.map((r) => r.length), [2, 2, 2, 2, 2, 2]);
  t.equal(rows[1]![1]!.length, 100_000);
  t.equal(rows[4]![1], 'x,'.repeat(50_000), 'the quoted field whole, commas and all');
});
