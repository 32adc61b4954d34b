/**
 * The shapes of persisted privacy state (budget ledger entries, score-history points, shared-snapshot metas):
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

const ajv = new Ajv({ allErrors: false, strict: true });
const validators = {
  ledger: ajv.compile<LedgerEntry>(LEDGER_ENTRY_SCHEMA),
  score: ajv.compile<ScorePointRecord>(SCORE_POINT_SCHEMA),
  meta: ajv.compile<SnapshotMetaRecord>(SNAPSHOT_META_SCHEMA),
};

function parseWith<T>(validate: ValidateFunction<T>, what: string, text: string, where: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StoreCorruptError(where, `not a valid ${what} (not JSON)`);
  }
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
