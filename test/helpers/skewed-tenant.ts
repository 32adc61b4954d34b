/**
 * Tables of small random tenants for the suppression property tests (test/cohort/linked-suppression.test.ts,
 * period-nesting.test.ts): people in departments D<n> and offices O<n>, one table per measure over one layout
 * (organisation, department, office) built by the product's aggregator, and the directory's structure as the
 * independent attacker (independent-attacker.ts) knows it.
 */
import { CohortAggregator, parseDimension, type CohortLayout } from '../../src/cohort/aggregate.js';
import { Directory, directoryKnowledge } from '../../src/cohort/directory.js';
import type { CohortTable } from '../../src/cohort/table.js';
import type { DirectoryStructure } from './independent-attacker.js';

/**
 * One table per entry of `tables`: each person `p` is counted in table `i` when `tables[i](p)` gives a verdict
 * (active or not), left out when it gives undefined.
 */
export function skewedTables<P extends { readonly department: number; readonly office: number }>(people: readonly P[], tables: readonly ((person: P) => boolean | undefined)[]): { tables: CohortTable[]; structure: DirectoryStructure } {
  const entries = people.map((p, i) => ({ userPrincipalName: `u${i}@t.example`, department: `D${p.department}`, officeLocation: `O${p.office}` }));
  const directory = new Directory(entries);
  const layout: CohortLayout = {
    dimensions: ['organization', 'department', 'officeLocation'].map(parseDimension),
    keySet: (parts) => directory.domain(parts[0] as 'department').map((v) => [v]),
    metrics: [],
    known: directoryKnowledge(directory),
  };
  const built = tables.map((activeIn) => {
    const aggregator = new CohortAggregator(layout);
    people.forEach((p, i) => {
      const active = activeIn(p);
      if (active !== undefined) aggregator.add({ attributes: { department: entries[i]!.department, officeLocation: entries[i]!.officeLocation }, active, metrics: [] });
    });
    return aggregator.table();
  });
  const departments = directory.domain('department').filter((d) => d.startsWith('D'));
  const offices = directory.domain('officeLocation').filter((o) => o.startsWith('O'));
  return { tables: built, structure: { departments, offices, occupied: new Set(entries.map((e) => `${e.department}|${e.officeLocation}`)) } };
}
