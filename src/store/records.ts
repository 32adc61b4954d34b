/**
 * The shapes of persisted privacy state (budget ledger entries, score-history points, shared-snapshot metas,
 * the release book's releases):
 * one JSON Schema each, from which json-schema-to-ts derives the type and with which ajv checks every record
 * read back from a file or from Redis. A record that does not match refuses the store (`StoreCorruptError`,
 * naming where it is): a ledger that replays as NaN would accept every later charge, so nothing is guessed.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { ProductError } from '../errors/catalogue.js';

export const LEDGER_ENTRY_SCHEMA = {
  type: 'object',
  properties: {
    consumer: { type: 'string', minLength: 1, maxLength: 256 },
    year: { type: 'integer', minimum: 2000, maximum: 9999 },
    /** sha256(year, release), hex: the same for every consumer reading the release (older ledgers: per consumer). */
    release: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    /** Positive and bounded: JSON's 1e999 parses to Infinity, which no budget should ever meet. */
    epsilon: { type: 'number', exclusiveMinimum: 0, maximum: 1e6 },
    at: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' },
  },
  required: ['consumer', 'year', 'release', 'epsilon', 'at'],
  additionalProperties: false,
} as const;

export type LedgerEntry = FromSchema<typeof LEDGER_ENTRY_SCHEMA>;

const POINTS = { anyOf: [{ type: 'number', minimum: 0, maximum: 1e6 }, { type: 'null' }] } as const;

export const SCORE_POINT_SCHEMA = {
  type: 'object',
  properties: {
    refreshDate: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
    period: { enum: ['D7', 'D30', 'D90', 'D180'] },
    percentage: { anyOf: [{ type: 'number', minimum: 0, maximum: 100 }, { type: 'null' }] },
    points: POINTS,
    max: { type: 'number', minimum: 0, maximum: 1e6 },
    categories: { type: 'object', additionalProperties: POINTS, maxProperties: 64 },
  },
  required: ['refreshDate', 'period', 'percentage', 'points', 'max', 'categories'],
  additionalProperties: false,
} as const;

export type ScorePointRecord = FromSchema<typeof SCORE_POINT_SCHEMA>;

export const SNAPSHOT_META_SCHEMA = {
  type: 'object',
  properties: {
    count: { type: 'integer', minimum: 0 },
    itemStarts: { type: 'array', items: { type: 'integer', minimum: 0 } },
    records: { type: 'integer', minimum: 0 },
  },
  required: ['count', 'itemStarts', 'records'],
  additionalProperties: false,
} as const;

export type SnapshotMetaRecord = FromSchema<typeof SNAPSHOT_META_SCHEMA>;

const COUNT = { type: 'number', minimum: 0, maximum: 1e12 } as const;
const FIGURE = { anyOf: [COUNT, { type: 'null' }] } as const;
const DATE_OR_NULL = { anyOf: [{ type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' }, { type: 'null' }] } as const;
const LABEL = { type: 'string', maxLength: 1024 } as const;
const SUPPRESSION_COUNTS = {
  type: 'object',
  properties: { primary: { type: 'integer', minimum: 0 }, complement: { type: 'integer', minimum: 0 }, secondary: { type: 'integer', minimum: 0 }, lpVerified: { type: 'boolean' } },
  required: ['primary', 'complement', 'secondary', 'lpVerified'],
  additionalProperties: false,
} as const;

/** A released cohort row (src/cohort/render.ts CohortRow), exactly as it was served. */
const COHORT_ROW_SCHEMA = {
  type: 'object',
  properties: {
    reportRefreshDate: DATE_OR_NULL,
    dimension: LABEL,
    cohort: { type: 'array', items: LABEL, maxItems: 8 },
    users: FIGURE,
    usersMargin95: FIGURE,
    activeUsers: FIGURE,
    activeUsersMargin95: FIGURE,
    metrics: {
      type: 'object',
      maxProperties: 64,
      additionalProperties: {
        type: 'object',
        properties: { sum: FIGURE, sumMargin95: FIGURE, mean: FIGURE, meanMargin95: FIGURE },
        required: ['sum', 'mean'],
        additionalProperties: false,
      },
    },
    suppressed: { type: 'boolean' },
  },
  required: ['reportRefreshDate', 'dimension', 'cohort', 'users', 'activeUsers', 'metrics', 'suppressed'],
  additionalProperties: false,
} as const;

/** A released org-score row (src/score/org-score.ts ScoreRow), exactly as it was served. */
const SCORE_ROW_SCHEMA = {
  type: 'object',
  properties: {
    dimension: LABEL,
    cohort: { type: 'array', items: LABEL, maxItems: 8 },
    total: {
      type: 'object',
      properties: { points: FIGURE, max: COUNT, percentage: FIGURE },
      required: ['points', 'max', 'percentage'],
      additionalProperties: false,
    },
    categories: {
      type: 'array',
      maxItems: 64,
      items: {
        type: 'object',
        properties: {
          id: LABEL, title: LABEL, numerator: FIGURE, numeratorMargin95: FIGURE, denominator: FIGURE, denominatorMargin95: FIGURE,
          points: FIGURE, definition: { type: 'string', maxLength: 4096 }, reports: { type: 'array', items: LABEL, maxItems: 16 }, suppressed: { type: 'boolean' },
        },
        required: ['id', 'title', 'numerator', 'denominator', 'points', 'definition', 'reports', 'suppressed'],
        additionalProperties: false,
      },
    },
    suppressed: { type: 'boolean' },
  },
  required: ['dimension', 'cohort', 'total', 'categories', 'suppressed'],
  additionalProperties: false,
} as const;

const RELEASE_COMMON = {
  /** The release id (src/cohort/release.ts releaseId): what the release book keeps and serves per slot and epoch. */
  id: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  /** The release slot (report or score, window, settings). */
  slot: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  /** The release epoch: a refresh date, the Monday of its week, or '-' for an empty report. */
  epoch: { type: 'string', pattern: '^(\\d{4}-\\d{2}-\\d{2}|-)$' },
  /** 0 for an exact (suppression-only) release. */
  epsilon: { type: 'number', minimum: 0, maximum: 1e6 },
  /**
   * Its noisy measures (src/cohort/release.ts NoisyMeasure): what a consumer reading it is charged for. Releases
   * kept before measures were charged lack it and are charged as one measure, their id, at their epsilon.
   */
  measures: {
    type: 'array',
    maxItems: 4096,
    items: {
      type: 'object',
      properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' }, epsilon: { type: 'number', exclusiveMinimum: 0, maximum: 1e6 } },
      required: ['id', 'epsilon'],
      additionalProperties: false,
    },
  },
} as const;

/**
 * A release as the release book keeps it (src/cohort/release-book.ts): what every consumer of its slot is served
 * until the next epoch, and what a consumer whose budget is spent is served stale. A cohort release keeps its
 * released rows, a score release its score rows; never a true figure that was not released.
 */
export const STORED_RELEASE_SCHEMA = {
  anyOf: [
    {
      type: 'object',
      properties: {
        ...RELEASE_COMMON,
        kind: { const: 'cohort' },
        body: {
          type: 'object',
          properties: { refreshDate: DATE_OR_NULL, counts: SUPPRESSION_COUNTS, rows: { type: 'array', items: COHORT_ROW_SCHEMA } },
          required: ['refreshDate', 'counts', 'rows'],
          additionalProperties: false,
        },
      },
      required: ['id', 'slot', 'epoch', 'epsilon', 'kind', 'body'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        ...RELEASE_COMMON,
        kind: { const: 'score' },
        body: {
          type: 'object',
          properties: {
            refreshDate: DATE_OR_NULL, counts: SUPPRESSION_COUNTS, dimensions: { type: 'array', items: LABEL, maxItems: 16 },
            rows: { type: 'array', items: SCORE_ROW_SCHEMA },
          },
          required: ['refreshDate', 'counts', 'dimensions', 'rows'],
          additionalProperties: false,
        },
      },
      required: ['id', 'slot', 'epoch', 'epsilon', 'kind', 'body'],
      additionalProperties: false,
    },
  ],
} as const;

export type StoredRelease = FromSchema<typeof STORED_RELEASE_SCHEMA>;

/** The embedded release file's second kind of line: which release a consumer was last served of a slot. */
export const SERVED_RELEASE_SCHEMA = {
  type: 'object',
  properties: {
    consumer: { type: 'string', minLength: 1, maxLength: 256 },
    slot: RELEASE_COMMON.slot,
    release: RELEASE_COMMON.id,
  },
  required: ['consumer', 'slot', 'release'],
  additionalProperties: false,
} as const;

export type ServedRelease = FromSchema<typeof SERVED_RELEASE_SCHEMA>;

/** A persisted record that does not match its schema; `where` is file:line or the Redis key. */
export class StoreCorruptError extends ProductError<'StoreCorruptError'> {
  readonly code = 'StoreCorruptError';
  constructor(
    readonly where: string,
    problem: string,
  ) {
    super(`${where}: ${problem}; the privacy state is corrupt, so the store refuses to open (restore a good copy or fix the entry)`);
    this.name = 'StoreCorruptError';
  }
}

let ajv: Ajv | undefined;
/** A record's validator, compiled on its first use: a proxy starting on empty stores compiles none. */
function compiledOnUse<T>(schema: object): () => ValidateFunction<T> {
  let validate: ValidateFunction<T> | undefined;
  return () => (validate ??= (ajv ??= new Ajv({ allErrors: false, strict: true })).compile<T>(schema));
}
const validators = {
  ledger: compiledOnUse<LedgerEntry>(LEDGER_ENTRY_SCHEMA),
  score: compiledOnUse<ScorePointRecord>(SCORE_POINT_SCHEMA),
  meta: compiledOnUse<SnapshotMetaRecord>(SNAPSHOT_META_SCHEMA),
  release: compiledOnUse<StoredRelease>(STORED_RELEASE_SCHEMA),
  served: compiledOnUse<ServedRelease>(SERVED_RELEASE_SCHEMA),
};

function parseWith<T>(validator: () => ValidateFunction<T>, what: string, text: string, where: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StoreCorruptError(where, `not a valid ${what} (not JSON)`);
  }
  const validate = validator();
  if (!validate(value)) {
    const e = validate.errors?.[0];
    throw new StoreCorruptError(where, `not a valid ${what} (${e === undefined ? 'bad shape' : `${e.instancePath || 'the entry'} ${e.message ?? 'is invalid'}`})`);
  }
  return value;
}

/** Parses and checks one ledger line (`where`: file:line); throws `StoreCorruptError` naming `where`. */
export const parseLedgerEntry = (text: string, where: string): LedgerEntry => parseWith(validators.ledger, 'budget ledger entry', text, where);
/** Parses and checks one score-history point (`where`: file:line or Redis key and field); throws `StoreCorruptError`. */
export const parseScorePoint = (text: string, where: string): ScorePointRecord => parseWith(validators.score, 'score history point', text, where);
/** Parses and checks a shared snapshot's meta record (`where`: its Redis key); throws `StoreCorruptError`. */
export const parseSnapshotMeta = (text: string, where: string): SnapshotMetaRecord => parseWith(validators.meta, 'shared snapshot meta', text, where);
/** Parses and checks a stored release (`where`: file:line or Redis key); throws `StoreCorruptError`. */
export const parseStoredRelease = (text: string, where: string): StoredRelease => parseWith(validators.release, 'stored release', text, where);
/** Parses and checks a served-release record (`where`: file:line or Redis key); throws `StoreCorruptError`. */
export const parseServedRelease = (text: string, where: string): ServedRelease => parseWith(validators.served, 'served release record', text, where);
