/**
 * Why sanitising refused a report. Messages name rows, columns and rules, never a cell's content, because an
 * error may be logged or mapped to a response and a cell may hold an identifier.
 */
export type SanitizeErrorCode =
  /** The CSV is not well-formed (quoting, field counts, an over-long row). */
  | 'MalformedCsv'
  /** A JSON page is not Graph's envelope or an item is not an object. */
  | 'MalformedJson'
  /** A column the policy releases or checks is missing from the upstream report. */
  | 'MissingColumn'
  /** A released cell does not fit its column's kind (a name where a number belongs). */
  | 'UnexpectedValue';

export class SanitizeError extends Error {
  constructor(
    readonly code: SanitizeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SanitizeError';
  }
}
