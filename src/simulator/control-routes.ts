/**
 * The simulator's test controls over HTTP (not part of Graph): read and replace the fault switches, expire
 * every access token issued so far, and read the request counters. The simulator is a test and demo fixture,
 * never exposed beyond loopback.
 */
import type { FastifyInstance } from 'fastify';
import { expireTokens, type SimulatorFaults, type SimulatorState } from './state.js';

/** The controls plugin. */
export async function controlRoutes(app: FastifyInstance, { state }: { readonly state: SimulatorState }): Promise<void> {
  app.get('/_simulator/faults', async () => state.faults);
  app.put('/_simulator/faults', async (request) => {
    state.faults = (request.body ?? {}) as SimulatorFaults;
    return state.faults;
  });
  app.post('/_simulator/expire-tokens', async (_request, reply) => {
    expireTokens(state);
    return reply.code(204).send();
  });
  app.get('/_simulator/stats', async () => state.stats);
}
