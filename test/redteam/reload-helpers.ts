/**
 * What the reload red-team tests share (dimension-drop-reload, kc-drop-reload): the Teams cohorts a
 * consumer reads, and what a consumer who keeps every release of one refresh knows of them.
 */
import type { Test } from 'tap';
import type { Observed } from '../helpers/independent-attacker.js';
import { KEYS, type ProxyUnderTest } from '../helpers/proxy-stack.js';
import { TEAMS } from '../helpers/random-tenant.js';

/** The Teams cohorts of `period` as the consumer of `key` reads them (every dimension its policy declares), asserting 200. */
export async function readTeams(t: Test, proxy: ProxyUnderTest, period: string, key: string = KEYS.stranger): Promise<Observed> {
  const res = await proxy.get(`/cohorts/${TEAMS}?period=${period}&format=json`, key);
  t.equal(res.status, 200, `${period} released`);
  const rows = (JSON.parse(res.body.toString()) as { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null }[] }).value;
  t.comment(`${period}: ${rows.map((r) => `${r.dimension}/${r.cohort.join('|')} ${r.users}/${r.activeUsers}`).join('; ')}`);
  return new Map(rows.map((r) => [`${r.dimension}/${r.cohort.join('|')}`, r.users === null ? null : { users: r.users, active: r.activeUsers! }]));
}

/** Every cell any of the releases shows (the consumer keeps them all); hidden only where all hide it. */
export function joined(...releases: Observed[]): Observed {
  const out = new Map<string, Observed extends ReadonlyMap<string, infer V> ? V : never>();
  for (const release of releases) for (const [cell, value] of release) if (value !== null || !out.has(cell)) out.set(cell, value ?? out.get(cell) ?? null);
  return out;
}
