/**
 * Red-team tenant builder: a Teams user-activity report (the simulator's row as template) for a directory laid
 * out by hand, department by department, with a chosen number of inactive people, served by the Graph double
 * behind a real proxy whose policy set is the shipped one plus the attacker's own policies.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { quoteCsvField } from '../../src/catalogue/csv.js';
import type { ConsumerKeys } from '../../src/server/consumer-keys.js';
import { startGraphDouble } from '../helpers/graph-double.js';
import { shippedPoliciesWithoutCases, startProxyFor, type ProxyUnderTest } from '../helpers/proxy-stack.js';
import { simulatedReports } from './helpers.js';

/** A department: its office, its people, how many of them did nothing in Teams over the period. */
export interface Group {
  readonly department: string;
  readonly office: string;
  readonly people: number;
  readonly inactive: number;
}

export const TEAMS = 'getTeamsUserActivityUserDetail';

/** An exact (suppression-only) Teams cohort policy at k 5, k_c 5, D30, for `consumer`, by `by` (YAML list items). */
export const exactPolicy = (name: string, consumer: string, by: string) => `name: ${name}
description: Exact Teams cohorts, protected by suppression alone.
consumers: [${consumer}]
k: 5
kC: 5
periods: [D30]
formats: [csv, json]
reports:
  ${TEAMS}:
    cohort:
      by: [${by}]
`;

/** The Teams report (CSV with BOM) and Graph's /users answer for `groups`; inactive people have every activity count 0. */
export async function craftedTeams(groups: readonly Group[]): Promise<{ csv: Buffer; directory: { value: object[] } }> {
  const { csv } = await simulatedReports(1, [TEAMS]);
  const [head, template] = parse(csv[TEAMS]!.slice(1)) as string[][];
  const rows: string[][] = [];
  const users: object[] = [];
  for (const g of groups) {
    for (let i = 0; i < g.people; i++) {
      const upn = `${g.department.toLowerCase()}${i}@contoso.onmicrosoft.com`;
      const idle = i < g.inactive;
      users.push({ userPrincipalName: upn, department: g.department, officeLocation: g.office });
      rows.push(head!.map((h, j) => {
        if (h === 'User Principal Name') return upn;
        if (h === 'User Id') return `00000000-0000-4000-8000-${String(rows.length).padStart(12, '0')}`;
        if (idle && /Count$|Messages$/.test(h)) return '0';
        if (idle && h === 'Has Other Action') return 'No';
        return template![j]!;
      }));
    }
  }
  const body = `\uFEFF${[head!, ...rows].map((r) => r.map(quoteCsvField).join(',')).join('\r\n')}\r\n`;
  return { csv: Buffer.from(body, 'utf8'), directory: { value: users } };
}

/** A proxy (shipped policies plus `extra` files) in front of a Graph double serving `reports`; closed at teardown. */
export async function proxyWith(
  t: { teardown(fn: () => Promise<void>): void },
  reports: Record<string, Buffer>,
  directory: unknown,
  extra: Record<string, string>,
  consumerKeys?: ConsumerKeys,
): Promise<ProxyUnderTest> {
  const dir = await shippedPoliciesWithoutCases('gpp-redteam-');
  for (const [name, text] of Object.entries(extra)) await writeFile(join(dir, name), text);
  const double = await startGraphDouble({ reports, directory });
  let proxy: ProxyUnderTest;
  try {
    proxy = await startProxyFor(double, { proxy: { policiesDir: dir, ...(consumerKeys !== undefined ? { consumerKeys } : {}) } });
  } catch (error) {
    await double.close();
    throw error;
  }
  t.teardown(async () => {
    await proxy.close();
    await double.close();
  });
  return proxy;
}

export interface Cell {
  readonly dimension: string;
  readonly cohort: string;
  readonly users: number | null;
  readonly activeUsers: number | null;
}

/** The cells of a /cohorts JSON answer, keyed `dimension/cohort`. */
export function cellsOf(body: Buffer): Map<string, Cell> {
  const value = (JSON.parse(body.toString('utf8')) as { value: { dimension: string; cohort: string[]; users: number | null; activeUsers: number | null }[] }).value;
  return new Map(value.map((r) => [`${r.dimension}/${r.cohort.join(' | ')}`, { dimension: r.dimension, cohort: r.cohort.join(' | '), users: r.users, activeUsers: r.activeUsers }]));
}
