/** Writing CSV the way Graph's report downloads are written: UTF-8 with a BOM, RFC 4180 quoting. */

export const UTF8_BOM = '\uFEFF';

const NEEDS_QUOTES = /[",\r\n]/;

/** One field, quoted only when it has to be (a comma, a quote or a line break in it). */
export function quoteCsvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(fields: readonly string[], lineEnding: string): string {
  let line = '';
  for (let i = 0; i < fields.length; i++) {
    if (i > 0) line += ',';
    line += quoteCsvField(fields[i]!);
  }
  return line + lineEnding;
}
