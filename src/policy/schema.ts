/**
 * The policy file format: one JSON Schema, from which json-schema-to-ts derives the TypeScript types and with
 * which ajv validates. There is no second, hand-written type. Checks that need the report catalogue (report
 * and column names, roles) are the linter's; this schema fixes the shape and the safe bounds.
 */
import type { FromSchema } from 'json-schema-to-ts';

/** The smallest k any policy may set (privacy.md: k is never below 2). */
export const K_FLOOR = 2;
export const DEFAULT_K = { k: 5, kC: 5, kOrg: 10 } as const;

const IDENTIFIER_NAME = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' } as const;
const K_VALUE = { type: 'integer', minimum: K_FLOOR, maximum: 1000 } as const;

const COLUMN_ACTION = {
  anyOf: [
    { type: 'string', enum: ['keep', 'drop', 'pseudonymize'] },
    {
      type: 'object',
      properties: {
        generalize: {
          anyOf: [
            { type: 'string', enum: ['week', 'month'] },
            {
              type: 'object',
              properties: {
                bands: { type: 'array', items: { type: 'number', minimum: 0 }, minItems: 1, maxItems: 50, uniqueItems: true },
              },
              required: ['bands'],
              additionalProperties: false,
            },
          ],
        },
      },
      required: ['generalize'],
      additionalProperties: false,
    },
  ],
} as const;

const ROWS_RULE = {
  type: 'object',
  properties: {
    /** Column (CSV header or JSON name) -> what happens to it; unnamed columns are dropped. */
    rows: { type: 'object', additionalProperties: COLUMN_ACTION, minProperties: 1 },
    /** Columns whose combinations must each occur at least k times among released rows. */
    quasiIdentifiers: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
    /**
     * Column -> why it identifies no one although it is released and not a quasi-identifier: the only way
     * to silence the release lint's warning for that column.
     */
    notIdentifying: { type: 'object', additionalProperties: { type: 'string', minLength: 10 } },
    /** Needed, with a reason, before any identifier column may be passed in clear. */
    allowClearIdentifiers: {
      type: 'object',
      properties: { reason: { type: 'string', minLength: 10 } },
      required: ['reason'],
      additionalProperties: false,
    },
  },
  required: ['rows'],
  additionalProperties: false,
} as const;

/** Cohort aggregation; the cohort issue extends this shape (suppression, noise, budget). */
const COHORT_RULE = {
  type: 'object',
  properties: {
    cohort: {
      type: 'object',
      properties: {
        /** Dimensions to group by; 'department x officeLocation' is a cross-dimension. */
        by: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true },
        /** Metric column -> the per-user bound each value is clipped to. */
        metrics: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            properties: { clip: { type: 'number', exclusiveMinimum: 0 } },
            required: ['clip'],
            additionalProperties: false,
          },
        },
        /**
         * Sticky discrete-Laplace noise on sub-organisation cohorts: each fresh release of the table costs
         * `epsilon` from the consumer's yearly privacy budget (see privacyBudget).
         */
        noise: {
          type: 'object',
          properties: { epsilon: { type: 'number', exclusiveMinimum: 0, maximum: 10 } },
          required: ['epsilon'],
          additionalProperties: false,
        },
      },
      required: ['by'],
      additionalProperties: false,
    },
  },
  required: ['cohort'],
  additionalProperties: false,
} as const;

export const POLICY_SCHEMA = {
  $id: 'https://graph-privacy-proxy.invalid/policy.schema.json',
  type: 'object',
  properties: {
    name: IDENTIFIER_NAME,
    /** Plain language; shown on the disclosure page. */
    description: { type: 'string', minLength: 1, maxLength: 2000 },
    consumers: { type: 'array', items: IDENTIFIER_NAME, minItems: 1, uniqueItems: true },
    k: K_VALUE,
    kC: K_VALUE,
    kOrg: K_VALUE,
    formats: { type: 'array', items: { type: 'string', enum: ['csv', 'json'] }, minItems: 1, uniqueItems: true },
    periods: {
      type: 'array',
      items: { type: 'string', enum: ['D7', 'D30', 'D90', 'D180', 'ALL'] },
      minItems: 1,
      uniqueItems: true,
    },
    /** Whether `(date=YYYY-MM-DD)` requests are allowed (default false: single days single people out). */
    dates: { type: 'boolean' },
    /** Which pseudonym key (id and epoch) applies; the secret itself never appears in a policy. */
    pseudonyms: {
      type: 'object',
      properties: { keyId: IDENTIFIER_NAME, epoch: { type: 'integer', minimum: 1 } },
      required: ['keyId', 'epoch'],
      additionalProperties: false,
    },
    /** The most epsilon noisy cohort releases may spend per consumer per calendar year (UTC). */
    privacyBudget: {
      type: 'object',
      properties: { epsilonPerYear: { type: 'number', exclusiveMinimum: 0, maximum: 1000 } },
      required: ['epsilonPerYear'],
      additionalProperties: false,
    },
    /** Endpoints beyond the reports, e.g. the org score. */
    permissions: { type: 'array', items: { type: 'string', enum: ['score'] }, uniqueItems: true },
    /** Report name -> 'deny', a rows rule or a cohort rule. Reports not named are denied. */
    reports: {
      type: 'object',
      additionalProperties: { anyOf: [{ type: 'string', const: 'deny' }, ROWS_RULE, COHORT_RULE] },
    },
  },
  required: ['name', 'description', 'consumers', 'reports'],
  additionalProperties: false,
} as const;

/** A policy file as validated: the one type, derived from the schema. */
export type PolicyDocument = FromSchema<typeof POLICY_SCHEMA>;
