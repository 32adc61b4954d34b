/**
 * The policy file format: one JSON Schema, from which json-schema-to-ts derives the TypeScript types and with
 * which ajv validates. There is no second, hand-written type. Checks that need the report catalogue (report
 * and column names, roles) are the linter's; this schema fixes the shape and the safe bounds.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { COLUMN_ACTION } from '../sanitize/column-actions.js';

/** The smallest k any policy may set (privacy.md: k is never below 2). */
export const K_FLOOR = 2;

const IDENTIFIER_NAME = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' } as const;
const K_VALUE = { type: 'integer', minimum: K_FLOOR, maximum: 1000 } as const;

// `description`, `default` and `examples` are what policies/REFERENCE.md is generated from (src/policy/reference.ts).
const ROWS_RULE = {
  type: 'object',
  description: 'Release the report row by row (per person, team or site), column by column.',
  properties: {
    rows: {
      type: 'object', additionalProperties: COLUMN_ACTION, minProperties: 1,
      description: 'Column (CSV header or JSON name) -> what happens to it. Columns not named are dropped, including columns Graph adds later.',
      examples: [{ 'User Principal Name': 'pseudonymize', 'Assigned Products': 'keep', 'Teams Last Activity Date': { generalize: 'month' } }],
    },
    quasiIdentifiers: {
      type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [],
      description: 'Released columns someone could know about a person; a row whose combination of them occurs fewer than k times is withheld. The release lint warns about released columns that single rows out but are not listed here.',
      examples: [['Assigned Products', 'Is Deleted', 'Teams Last Activity Date']],
    },
    notIdentifying: {
      type: 'object', additionalProperties: { type: 'string', minLength: 10 },
      description: "Column -> why it identifies no one although it is released and not a quasi-identifier (at least 10 characters): the only way to silence the release lint's warning for that column.",
      examples: [{ 'Has Teams License': 'Everyone in the tenant has a Teams licence.' }],
    },
    allowClearIdentifiers: {
      type: 'object',
      properties: { reason: { type: 'string', minLength: 10 } },
      required: ['reason'],
      additionalProperties: false,
      description: 'Needed, with a reason (at least 10 characters), before any identifier column (names, e-mail addresses, ids, site URLs) may be kept in clear.',
      examples: [{ reason: 'The helpdesk tool must show site URLs to site owners.' }],
    },
  },
  required: ['rows'],
  additionalProperties: false,
} as const;

const COHORT_RULE = {
  type: 'object',
  description: 'Release the report only as cohort aggregates (counts and capped sums per group), never a row.',
  properties: {
    cohort: {
      type: 'object',
      description: 'How people are grouped and which sums are released.',
      examples: [{ by: ['organization', 'department'], metrics: { 'Send Count': { clip: 100 } }, noise: { margin95: 5 } }],
      properties: {
        by: {
          type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true,
          description: "Dimensions to group by: 'organization', directory attributes (department, officeLocation, country, city, companyName, jobTitle), yes/no report columns, 'licenceClass', and crosses such as 'department x officeLocation'.",
          examples: [['organization', 'department', 'department x officeLocation']],
        },
        metrics: {
          type: 'object',
          description: "Metric column -> the per-person bound each value is clipped to before summing (one person moves a sum by at most the clip). Without metrics only people and active people are counted.",
          examples: [{ 'Call Count': { clip: 100 } }],
          additionalProperties: {
            type: 'object',
            properties: { clip: { type: 'number', exclusiveMinimum: 0 } },
            required: ['clip'],
            additionalProperties: false,
          },
        },
        noise: {
          type: 'object',
          properties: {
            epsilon: { type: 'number', exclusiveMinimum: 0, maximum: 10, description: 'What one fresh release of the table costs; the margins follow (policy explain shows them). Smaller epsilon: more noise.' },
            margin95: { type: 'integer', minimum: 1, maximum: 1000, description: 'The accuracy needed instead: released counts of people within this many people of the truth 95% of the time; each sum within about its clip times this. The epsilon per release follows (policy explain shows it).' },
          },
          additionalProperties: false,
          description: "Sticky discrete-Laplace noise on sub-organisation cohorts, stated either way (exactly one of the two): as epsilon per fresh release, or as the 95% margin counts of people need (margin95). Every noisy figure is released with its 95% margin. Each fresh release of the table costs its epsilon from the consumer's yearly privacyBudget (needed with noise).",
          examples: [{ margin95: 5 }, { epsilon: 1 }],
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
  description: 'One policy file: which consumers it governs and what each report releases to them.',
  properties: {
    name: { ...IDENTIFIER_NAME, description: 'The policy\'s name (unique in the set), shown in the audit log and on the disclosure page.', examples: ['licence-management'] },
    description: { type: 'string', minLength: 1, maxLength: 2000, description: 'Plain language for staff and works councils; shown on the disclosure page.', examples: ['The licence tool sees which licences each pseudonymous person has.'] },
    consumers: { type: 'array', items: IDENTIFIER_NAME, minItems: 1, uniqueItems: true, description: 'The consumer ids (as in GPP_CONSUMER_KEYS) this policy governs; each consumer has exactly one policy.', examples: [['licence-tool']] },
    k: { ...K_VALUE, default: 5, description: 'Minimum group size: cohorts, quasi-identifier combinations, team/group rows and counts below k are withheld.', examples: [10] },
    kC: { ...K_VALUE, default: 5, description: 'Minimum complement: within a released cohort, the active count is at least kC and the inactive count is 0 or at least kC (so nobody\'s inactivity can be read off; "everyone was active" may be shown).', examples: [5] },
    kOrg: { ...K_VALUE, default: 10, description: 'Minimum size of an organisation or cohort for the adoption score.', examples: [10] },
    formats: { type: 'array', items: { type: 'string', enum: ['csv', 'json'] }, minItems: 1, uniqueItems: true, default: ['csv', 'json'], description: 'Response formats the consumer may ask for.', examples: [['csv']] },
    periods: {
      type: 'array',
      items: { type: 'string', enum: ['D7', 'D30', 'D90', 'D180', 'ALL'] },
      minItems: 1,
      uniqueItems: true,
      // ALL (the Copilot reports' whole history) only when listed: the proxy has always enforced this default.
      default: ['D7', 'D30', 'D90', 'D180'],
      description: "Report periods the consumer may ask for; 'ALL' (the Copilot reports' whole history) only when listed.",
      examples: [['D30', 'D90']],
    },
    dates: { type: 'boolean', default: false, description: 'Whether single-day `(date=YYYY-MM-DD)` requests are allowed; off unless turned on, since one day\'s activity singles people out more than a period.', examples: [true] },
    pseudonyms: {
      type: 'object',
      properties: { keyId: IDENTIFIER_NAME, epoch: { type: 'integer', minimum: 1 } },
      required: ['keyId', 'epoch'],
      additionalProperties: false,
      description: 'Which pseudonym key (id in GPP_PSEUDONYM_KEYS) and epoch apply; needed when a column is pseudonymised. The proxy refuses a set naming a key it does not hold. A new epoch gives every person new pseudonyms.',
      examples: [{ keyId: 'licence-tool', epoch: 1 }],
    },
    privacyBudget: {
      type: 'object',
      properties: { epsilonPerYear: { type: 'number', exclusiveMinimum: 0, maximum: 1000 } },
      required: ['epsilonPerYear'],
      additionalProperties: false,
      description: "The most epsilon this consumer's share of noisy releases may reach per calendar year (UTC): the epsilon of every release it reads (a release is made once per report, period and epoch, whoever reads it; a figure another policy releases at the same noise scale is the same draw, counted once for the organisation). Needed when a cohort rule has noise. Once spent, the consumer is served its last release, marked stale, never a fresh one. The organisation's total across all consumers is limited too, by the proxy's GPP_ORGANISATION_EPSILON_PER_YEAR (default: the planned yearly total policy check prints); past it every consumer is served stale releases.",
      examples: [{ epsilonPerYear: 400 }],
    },
    freshReleases: {
      type: 'string', enum: ['daily', 'weekly'], default: 'daily',
      description: "How often a fresh release of each report and period (and of the score) is made: 'daily', at each Graph refresh, or 'weekly', at the first refresh of each week (Monday, UTC); in between the release is served unchanged, to every consumer, so a change within the day (a leaver deleted from the directory) releases nothing new. Fewer fresh noisy releases spend less of the yearly budget.",
      examples: ['weekly'],
    },
    permissions: { type: 'array', items: { type: 'string', enum: ['score', 'preview'] }, uniqueItems: true, default: [], description: "Endpoints beyond the reports: 'score' for /org-score; 'preview' for GET /policy/preview (an operator: what the live set releases of the data the proxy holds, counts and risk only).", examples: [['score']] },
    reports: {
      type: 'object',
      description: "Report name -> 'deny', a rows rule or a cohort rule. Reports not named are denied.",
      examples: [{ getEmailActivityCounts: 'deny' }],
      additionalProperties: { anyOf: [{ type: 'string', const: 'deny' }, ROWS_RULE, COHORT_RULE] },
    },
  },
  required: ['name', 'description', 'consumers', 'reports'],
  additionalProperties: false,
} as const;

/** A policy file as written and validated: settings with a default may be absent. Derived from the schema. */
export type PolicyDocument = FromSchema<typeof POLICY_SCHEMA, { keepDefaultedPropertiesOptional: true }>;

/**
 * A policy with every default of the schema filled in (`resolvePolicy`, at validation): the type every reader
 * takes, so no reader applies a default of its own. Derived from the same schema.
 */
export type ResolvedPolicy = FromSchema<typeof POLICY_SCHEMA>;
/** What a policy says for one report: 'deny', a rows rule or a cohort rule. */
export type ReportRule = ResolvedPolicy['reports'][string];
export type RowsRule = Extract<ReportRule, { rows: unknown }>;
export type CohortRule = Extract<ReportRule, { cohort: unknown }>;
/** What a rows rule does to one column: keep, drop, pseudonymize or generalize. */
export type ColumnAction = RowsRule['rows'][string];

const SETTINGS = POLICY_SCHEMA.properties;
const QUASI_IDENTIFIERS = ROWS_RULE.properties.quasiIdentifiers;

/**
 * The policy with every schema default filled in, once (the defaults are written only in the schema above):
 * k, kC, kOrg, formats, periods, dates, freshReleases, permissions and each rows rule's quasiIdentifiers. Pure; `document`
 * must already be valid.
 */
export function resolvePolicy(document: PolicyDocument): ResolvedPolicy {
  const reports: Record<string, ReportRule> = {};
  for (const [name, rule] of Object.entries(document.reports)) {
    reports[name] = typeof rule === 'object' && 'rows' in rule ? { ...rule, quasiIdentifiers: rule.quasiIdentifiers ?? [...QUASI_IDENTIFIERS.default] } : rule!;
  }
  return {
    ...document,
    k: document.k ?? SETTINGS.k.default,
    kC: document.kC ?? SETTINGS.kC.default,
    kOrg: document.kOrg ?? SETTINGS.kOrg.default,
    formats: document.formats ?? [...SETTINGS.formats.default],
    periods: document.periods ?? [...SETTINGS.periods.default],
    dates: document.dates ?? SETTINGS.dates.default,
    freshReleases: document.freshReleases ?? SETTINGS.freshReleases.default,
    permissions: document.permissions ?? [...SETTINGS.permissions.default],
    reports,
  };
}
