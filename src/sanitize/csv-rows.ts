/**
 * A streaming, quote-aware CSV row reader (RFC 4180 as Graph writes it: comma separators, double-quoted fields
 * with "" escapes, LF or CRLF line ends, a UTF-8 BOM). Rows without quotes take a fast `split` path; quoted rows
 * are parsed character by character and may span chunks. Anything else (a quote inside an unquoted field, text
 * after a closing quote, an unterminated quote at the end) is an error: the reader never guesses.
 *
 * Written by hand because the report path's throughput target is several times csv-parse's (see bench/); the
 * tests check it against csv-parse on random CSVs.
 */
import { StringDecoder } from 'node:string_decoder';
import { SanitizeError } from './errors.js';

/** One row's fields; the row number (1-based, header = 1) is passed alongside for error messages. */
export type RowHandler = (fields: string[], rowNumber: number) => void;

/** Rows longer than this are refused (a runaway quote would otherwise buffer the whole report). */
export const MAX_ROW_CHARS = 1 << 20;

export class CsvRowReader {
  private readonly decoder = new StringDecoder('utf8');
  private carry = '';
  /**
   * Chunks that came after the carry without a line end (so no row can end in them), not yet joined to it: a long
   * row in small chunks would otherwise be joined, flattened and searched again from its start for each chunk
   * (quadratic: a 200,000-character row in 5-byte chunks took 26 s to validate, and hung a fuzz test in CI).
   */
  private tail: string[] = [];
  private tailLength = 0;
  protected rowNumber = 0;
  private started = false;

  constructor(private readonly onRow: RowHandler) {}

  /** Feeds the next chunk; complete rows are handed to the row handler before this returns. */
  push(chunk: Buffer | string): void {
    if (!this.started && typeof chunk !== 'string' && chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
      // The BOM skipped as bytes, not sliced off the text: U+FEFF makes V8 hold the text in two bytes a character,
      // and every later buffer (the carry joined to the next chunk) would stay so, slices and kept cells too.
      this.started = true;
      chunk = chunk.subarray(3);
    }
    let text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.carry.length > 0 && text.indexOf('\n') === -1) {
      this.tail.push(text);
      this.tailLength += text.length;
      if (this.carry.length + this.tailLength > MAX_ROW_CHARS) throw this.tooLong();
      return;
    }
    if (this.tail.length > 0) {
      this.carry += this.tail.join('');
      this.tail = [];
      this.tailLength = 0;
    }
    let buffer = text;
    let from = 0;
    if (this.carry.length > 0) {
      const lineEnd = text.indexOf('\n');
      if (lineEnd !== -1 && this.carry.indexOf('"') === -1 && text.lastIndexOf('"', lineEnd) === -1) {
        // The carried start of a row, completed by this chunk's first line (no quotes: one whole row), is read
        // on its own and the chunk where it lies: joining the whole chunk to the carry copied every chunk once
        // more, and V8 reads a joined string through an indirection, character by character.
        this.readRows(this.carry + text.slice(0, lineEnd + 1), false);
        from = lineEnd + 1;
      } else {
        buffer = this.carry + text;
      }
    }
    const consumed = this.readRows(buffer, false, from);
    this.carry = buffer.slice(consumed);
    if (this.carry.length > MAX_ROW_CHARS) throw this.tooLong();
  }

  private tooLong(): SanitizeError {
    return new SanitizeError('MalformedCsv', `row ${this.rowNumber + 1} is longer than ${MAX_ROW_CHARS} characters`);
  }

  /** Ends the input: a last row without a line end is read; an open quote is an error. */
  end(): void {
    const rest = this.carry + this.tail.join('') + this.decoder.end();
    this.carry = '';
    this.tail = [];
    this.tailLength = 0;
    if (rest.length > 0) this.readRows(rest, true);
  }

  /** How many rows (header included) were read so far. */
  get rows(): number {
    return this.rowNumber;
  }

  /** Reads whole rows from `buffer`, from `start` (a row's start); returns the position after the last one read. */
  private readRows(buffer: string, atEnd: boolean, start = 0): number {
    let pos = start;
    // Reading a character first flattens a concatenated buffer (carry + chunk) in place: with indexOf alone V8
    // flattened a copy again and again (measured: the whole reader 7 times slower on 64 KiB chunks).
    let nextQuote = buffer.charCodeAt(start) === 34 ? start : buffer.indexOf('"', start);
    const length = buffer.length;
    while (pos < length) {
      let lineEnd = buffer.indexOf('\n', pos);
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = buffer.indexOf('"', pos);
      if (nextQuote === -1 || (lineEnd !== -1 && nextQuote > lineEnd)) {
        if (lineEnd === -1) {
          if (!atEnd) return pos;
          lineEnd = length;
        }
        const stop = lineEnd > pos && buffer.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
        this.readLine(buffer, pos, stop);
        pos = lineEnd + 1;
        continue;
      }
      const next = this.readQuotedRow(buffer, pos, atEnd);
      if (next === -1) return pos;
      pos = next;
    }
    return pos;
  }

  /**
   * Reads one row containing quotes, starting at `start`; returns the position after its line end, or -1 when
   * the row is not complete in `buffer` yet.
   */
  private readQuotedRow(buffer: string, start: number, atEnd: boolean): number {
    const fields: string[] = [];
    const length = buffer.length;
    let pos = start;
    for (;;) {
      // At the start of a field.
      if (pos < length && buffer.charCodeAt(pos) === 34) {
        let value = '';
        let segment = pos + 1;
        for (;;) {
          const quote = buffer.indexOf('"', segment);
          if (quote === -1) {
            if (atEnd) throw this.malformed('has an unterminated quoted field');
            return -1;
          }
          if (quote + 1 >= length && !atEnd) return -1;
          if (buffer.charCodeAt(quote + 1) === 34) {
            value += buffer.slice(segment, quote + 1);
            segment = quote + 2;
            continue;
          }
          value += buffer.slice(segment, quote);
          pos = quote + 1;
          break;
        }
        fields.push(value);
      } else {
        let end = pos;
        while (end < length) {
          const c = buffer.charCodeAt(end);
          if (c === 44 || c === 10 || c === 13) break;
          if (c === 34) throw this.malformed('has a quote inside an unquoted field');
          end++;
        }
        fields.push(buffer.slice(pos, end));
        pos = end;
      }
      // After a field: a separator, a line end, or the end of input.
      if (pos >= length) {
        if (!atEnd) return -1;
        this.emit(fields);
        return pos;
      }
      const c = buffer.charCodeAt(pos);
      if (c === 44) {
        pos++;
        continue;
      }
      if (c === 13) {
        if (pos + 1 >= length && !atEnd) return -1;
        if (pos + 1 < length && buffer.charCodeAt(pos + 1) !== 10) throw this.malformed('has a carriage return that does not end the line');
        this.emit(fields);
        return pos + 2;
      }
      if (c === 10) {
        this.emit(fields);
        return pos + 1;
      }
      throw this.malformed('has text after a closing quote');
    }
  }

  /**
   * A whole line without quotes, `buffer[start, stop)` (line end excluded): split at commas and handed on. A
   * reader that needs only some cells overrides it to read them in place (csv-report.ts validateCsvReport).
   */
  protected readLine(buffer: string, start: number, stop: number): void {
    this.emit(buffer.slice(start, stop).split(','));
  }

  protected emit(fields: string[]): void {
    this.rowNumber++;
    this.onRow(fields, this.rowNumber);
  }

  private malformed(what: string): SanitizeError {
    return new SanitizeError('MalformedCsv', `row ${this.rowNumber + 1} ${what}`);
  }
}
