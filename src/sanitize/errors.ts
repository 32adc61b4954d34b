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
  | 'UnexpectedValue'
  /** The report contradicts itself (a user's rows split by other users' rows), so no count from it is sound. */
  | 'InconsistentReport';

export class SanitizeError extends Error {
  constructor(
    readonly code: SanitizeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SanitizeError';
  }
}

/**
 * A column the policy (or the score) needs is missing from Graph's report. `column` is the catalogue's name for
 * it, never a cell value, so it may be shown to the consumer: a real tenant's report that lacks it is a fact
 * the consumer's administrator can act on.
 */
export class MissingColumnError extends SanitizeError {
  constructor(
    readonly report: string,
    readonly column: string,
    /** What needs the column, for the log: 'the policy', 'the score', 'row sizing'. */
    readonly neededBy: string,
  ) {
    super('MissingColumn', `the upstream report ${report} has no column '${column}', which ${neededBy} uses`);
  }
}
