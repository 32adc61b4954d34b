/**
 * `GET /budget`: a consumer's own privacy budget this calendar year (UTC): its yearly limit (its policy's
 * privacyBudget), its share spent (the epsilon of the noisy releases it has read), what is left, when it resets,
 * how often fresh releases are made, and beside it the organisation's (what each person is exposed to across all
 * tools): spent, limit, left, reset. Once the consumer's share or the organisation's budget is spent, noisy
 * releases come back stale (`x-gpp-release-stale: true`): the last release, never a fresh one. No other
 * consumer's figures are shown.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NoiseSettings } from '../cohort/release-book.js';
import type { PolicySet } from '../policy/load.js';
import { consumerRequest } from './auth.js';
import type { ConsumerKeys } from './consumer-keys.js';
import { ProxyRefusal } from './errors.js';

export interface BudgetRoutesOptions {
  readonly policies: { readonly current: PolicySet };
  readonly keys: ConsumerKeys;
  readonly noise?: NoiseSettings;
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

/**
 * The organisation's budget this year: its privacy loss per person across all consumers (`spent`), its yearly
 * limit (null: none), what is left, whether it is spent (then every consumer's noisy releases come back stale)
 * and when it resets.
 */
function organisationBudget(spent: number, limit: number | undefined, year: number) {
  return {
    spent: round(spent), epsilonPerYear: limit ?? null, left: limit === undefined ? null : round(Math.max(0, limit - spent)),
    exhausted: limit !== undefined && spent >= limit - 1e-9, resetsAt: `${year + 1}-01-01T00:00:00Z`,
  };
}

export async function budgetRoutes(app: FastifyInstance, options: BudgetRoutesOptions): Promise<void> {
  app.get('/budget', { schema: { tags: ['budget'], summary: "The consumer's own privacy budget", description: "This consumer's yearly epsilon budget, its share spent on the noisy releases it has read, what is left, when it resets (1 January, UTC), how often fresh releases are made, and the organisation's spent, limit, left and reset (past its limit every consumer is served stale releases).", security: [{ consumerKey: [] }] } }, async (request: FastifyRequest, reply: FastifyReply) => {
    const { consumer, set } = consumerRequest(request, reply, options.keys, options.policies);
    request.audit.kind = 'budget';
    reply.header('cache-control', 'no-store');
    const loaded = set.policyFor(consumer);
    if (loaded === undefined) throw new ProxyRefusal(403, 'Forbidden', 'No policy governs this consumer.');
    request.audit.policy = loaded.policy.name;
    const now = options.noise?.now?.() ?? new Date();
    const year = now.getUTCFullYear();
    const ledger = options.noise?.ledger;
    const limit = loaded.policy.privacyBudget?.epsilonPerYear ?? null;
    const spent = ledger === undefined ? 0 : await ledger.spent(consumer, year);
    return reply.send({
      consumer, policy: loaded.policy.name, year,
      epsilonPerYear: limit, spent: round(spent), left: limit === null ? null : round(Math.max(0, limit - spent)),
      exhausted: limit !== null && spent >= limit - 1e-9,
      resetsAt: `${year + 1}-01-01T00:00:00Z`,
      freshReleases: loaded.policy.freshReleases,
      organisation: organisationBudget(ledger === undefined ? 0 : await ledger.organisationSpent(year), options.noise?.organisationEpsilonPerYear?.(), year),
    });
  });
}
