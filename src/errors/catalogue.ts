/**
 * Every error the product raises, by code, in one place: the codes of the error classes (each module keeps
 * its class, which extends `ProductError` with one of these codes), and the codes of the Graph-shaped error
 * bodies the proxy answers with. Callers switch on a class (`instanceof`) or on a code from here, never on a
 * string of their own. Server responses are mapped from these in exactly one place (src/server/errors.ts).
 */

/** Failures talking to Entra ID or Graph (`UpstreamError`, src/graph/upstream-error.ts). */
export type UpstreamErrorCode =
  /** No access token could be obtained (bad credentials, token endpoint down). */
  | 'TokenUnavailable'
  /** Graph kept answering 429 (or 503) beyond the bounded retry budget. */
  | 'Throttled'
  | 'Unavailable'
  /** Graph refused the request itself (4xx other than 429). */
  | 'Refused'
  /** The 302 pointed somewhere not on the download allow-list, or redirected again. */
  | 'RedirectRefused'
  | 'Timeout'
  /** The body broke off or did not match what was announced. */
  | 'Truncated'
  /** Graph answered something we cannot use (no Location on a 302, not JSON where JSON was due). */
  | 'BadResponse';

/** Why sanitising refused a report (`SanitizeError`, src/sanitize/errors.ts). */
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

/** Why `graph-privacy-proxy sanitize` does not release a file (`ExportRefused`, src/sanitize-export.ts). */
export type ExportRefusedCode = 'Denied' | 'UnknownReport' | 'UnknownPeriod' | 'PeriodMismatch' | 'NeedsDirectory' | 'NeedsOtherPeriods' | 'NeedsNoiseKey' | 'BudgetExhausted' | 'ConcealedNames' | 'UnreadableInput';

/** The error classes with one code each: the code is the class's own. */
export type SingleErrorCode =
  /** Report rows cannot be joined to the directory (`ConcealedNamesError`, src/cohort/directory.ts). */
  | 'ConcealedNames'
  /** A report's periods, released as one table, hold data of different refresh dates (`PeriodsRefreshing`, src/cohort/release.ts). */
  | 'PeriodsRefreshing'
  /** Without a store, the memory of a refresh's suppression patterns passed its bound (`RefreshPatternsEvicted`, src/cohort/tables-made.ts). */
  | 'RefreshPatternsEvicted'
  /** A value does not have its column's type (`ValueFormatError`, src/catalogue/values.ts). */
  | 'ValueFormatError'
  /** A policy or configuration file is not valid YAML/JSON (`PolicySyntaxError`, src/policy/source.ts). */
  | 'PolicySyntaxError'
  /** A policy set does not load; lists every problem (`PolicyLoadError`, src/policy/load.ts). */
  | 'PolicyLoadError'
  /** A cohort rule cannot be planned for a report (`CohortPlanError`, src/cohort/report-users.ts). */
  | 'CohortPlanError'
  /** A cohort table's attacker programme is above what can be verified (`CohortTableUnverifiable`, src/cohort/attacker-decomposition.ts). */
  | 'CohortTableUnverifiable'
  /** Another live process holds the embedded state (`StoreLockedError`, src/store/file-lock.ts). */
  | 'StoreLockedError'
  /** A persisted record does not match its schema (`StoreCorruptError`, src/store/records.ts). */
  | 'StoreCorruptError'
  /** The consumer key list cannot be read (`ConsumerKeyError`, src/server/consumer-keys.ts). */
  | 'ConsumerKeyError'
  /** A pseudonym key is missing, short or given twice (`PseudonymKeyError`, src/sanitize/pseudonyms.ts). */
  | 'PseudonymKeyError'
  /** A sealed value is not an envelope of this version (`EnvelopeError`, src/crypto/aead.ts). */
  | 'EnvelopeMalformed'
  /** A sealed value fails authentication: another key, purpose or context, or altered (`EnvelopeError`). */
  | 'EnvelopeRejected'
  /** Something the code guarantees did not hold: a bug, never the input's fault (`InternalInvariantError`). */
  | 'InternalInvariant';

/** The code of any error the product raises. */
export type ErrorCode = UpstreamErrorCode | SanitizeErrorCode | ExportRefusedCode | SingleErrorCode;

/**
 * The codes of the Graph-shaped error bodies the proxy writes (`{"error":{"code",...}}`): Graph's own codes
 * where Graph has one for the case, and the proxy's where it does not (PrivacyBudgetExhausted,
 * OrganizationTooSmall, CohortsUnavailable). A `ProxyRefusal` carries one; a documented code of Graph's own
 * answer may also be passed on (src/graph/errors.ts, GRAPH_ERROR_CODES).
 */
export type ResponseCode =
  | 'BadRequest'
  | 'InvalidArgument'
  | 'InvalidAuthenticationToken'
  | 'TokenExpired'
  | 'Forbidden'
  | 'PrivacyBudgetExhausted'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'RequestTimeout'
  | 'Conflict'
  | 'CohortsUnavailable'
  | 'PayloadTooLarge'
  | 'OrganizationTooSmall'
  | 'RequestHeaderFieldsTooLarge'
  | 'TooManyRequests'
  | 'InternalServerError'
  | 'BadGateway'
  | 'ServiceUnavailable'
  | 'GatewayTimeout';

/** An error the product raises: a message in our words and a code from this catalogue. */
export abstract class ProductError<C extends ErrorCode = ErrorCode> extends Error {
  abstract readonly code: C;
}

/**
 * An invariant violated: a state the code rules out (a plan without the key it was checked to have, a user
 * outside the key set built from the directory). It is a bug, so a request meeting it gets the generic 500
 * with no detail; the message is for the log only.
 */
export class InternalInvariantError extends ProductError<'InternalInvariant'> {
  readonly code = 'InternalInvariant';
  constructor(message: string) {
    super(message);
    this.name = 'InternalInvariantError';
  }
}
