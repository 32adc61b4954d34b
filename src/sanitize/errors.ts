/**
 * Why sanitising refused a report. Messages name rows, columns and rules, never a cell's content, because an
 * error may be logged or mapped to a response and a cell may hold an identifier.
 */
import { ProductError, type SanitizeErrorCode } from '../errors/catalogue.js';

export type { SanitizeErrorCode } from '../errors/catalogue.js';

export class SanitizeError extends ProductError<SanitizeErrorCode> {
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

/**
 * A report with rows whose first row has no Report Refresh Date: the refresh its releases belong to is unknown, and
 * a release of unknown refresh is kept within no refresh's patterns (cohort/tables-made.ts), so nothing of it is
 * released (red team: test/redteam/blank-refresh-date-kc-raise.test.ts). Graph fills the column; an empty report
 * (no rows) has no date and is released as it is.
 */
export const blankRefreshDate = (report: string): SanitizeError =>
  new SanitizeError('InconsistentReport', `the upstream report ${report} has rows without a Report Refresh Date, so the refresh they belong to is unknown`);
