/**
 * What a rows rule may do to a column, as the JSON Schema fragment the policy schema embeds (policy/schema.ts)
 * and the type derived from it: the sanitiser owns the actions, the policy file names them.
 */
import type { FromSchema } from 'json-schema-to-ts';

// `description` and `examples` are part of policies/REFERENCE.md (src/policy/reference.ts).
export const COLUMN_ACTION = {
  description: "What happens to the column: 'keep' (in clear), 'drop', 'pseudonymize' (identifier columns only: a keyed pseudonym per consumer and epoch), or { generalize: week | month } for dates (the Monday of the week, the first of the month) or { generalize: { bands: [...] } } for counts (the band's lower bound).",
  examples: ['pseudonymize', { generalize: 'month' }, { generalize: { bands: [0, 10, 100] } }],
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

export type ColumnAction = FromSchema<typeof COLUMN_ACTION>;
