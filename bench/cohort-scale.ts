/**
 * Benchmark (issue 18, item 4): cohort tables of directories with many departments. For 10, 1,000 and 6,000
 * departments crossed with 50 offices (300,000 users, skewed sizes as free-text departments are), it times
 * building the table (key sets from the directory, relations, every user counted) and suppressing it with
 * the attacker's verification, and prints cells, cost per cell and the heap the table holds.
 * Targets: 6,000 x 50 built in < 1 s and verified in < 10 s; cost linear in cells.
 * Run: node --expose-gc --import tsx bench/cohort-scale.ts [departments...]  (each size in a child process)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CohortAggregator, parseDimension, type CohortCounter, type CohortLayout } from '../src/cohort/aggregate.js';
import { DIRECTORY_ATTRIBUTES, Directory, directoryKnowledge, type DirectoryAttribute } from '../src/cohort/directory.js';
import { suppressCohorts } from '../src/cohort/suppress.js';
import type { CohortTable } from '../src/cohort/table.js';

const USERS = 300_000;
const DEPARTMENT = DIRECTORY_ATTRIBUTES.indexOf('department');
const OFFICE = DIRECTORY_ATTRIBUTES.indexOf('officeLocation');
const OFFICES = 50;
const DIMENSIONS = ['organization', 'department', 'officeLocation', 'department x officeLocation'];

/** A deterministic uniform number in [0, 1) per (n, salt) (a 32-bit integer hash). */
function uniform(n: number, salt: number): number {
  let h = (Math.imul(n ^ salt, 0x9e3779b1) ^ 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

/**
 * Skewed sizes: departments log-uniform (Zipf-like, as free text is: a few large ones, thousands of a handful
 * of people), offices by the square of a uniform draw (most people in the first ones).
 */
const person = (n: number, departments: number) => ({
  userPrincipalName: `person${n}@bench.example`,
  department: `Department ${Math.floor(Math.exp(uniform(n, 1) * Math.log(departments + 1))) - 1}`,
  officeLocation: `Office ${Math.floor(OFFICES * uniform(n, 2) ** 2)}`,
  active: uniform(n, 3) < 0.8,
});

/** The main thread's CPU time so far (ms): garbage collection on helper threads and waiting for a core left out. */
const mainThreadCpu = () => {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
};

/** One size, in this process: its line of the growth table. */
function run(departments: number): string {
  const people = Array.from({ length: USERS }, (_, n) => person(n, departments));
  const directory = new Directory(people);
  // The garbage of making the people is not the build's.
  global.gc?.();
  const started = performance.now();
  const startedCpu = mainThreadCpu();
  const layout: CohortLayout = {
    dimensions: DIMENSIONS.map(parseDimension),
    keySet: (parts) => (parts.length === 1 ? directory.domain(parts[0] as DirectoryAttribute).map((v) => [v]) : directory.combinations(parts as DirectoryAttribute[])),
    metrics: [{ name: 'messages', clip: 100 }],
    // As the product's layout (cohort/report-users.ts): the combinations nobody holds are structural zeros.
    known: directoryKnowledge(directory),
  };
  let aggregator: CohortAggregator | undefined = new CohortAggregator(layout);
  // Each user joined to the directory by UPN and counted through their directory tuple's counter, as
  // aggregateCsvReport does.
  const counters = new Map<readonly string[], CohortCounter>();
  for (const [n, p] of people.entries()) {
    const entry = directory.entryOf(p.userPrincipalName)!;
    let counter = counters.get(entry);
    if (counter === undefined) counters.set(entry, (counter = aggregator.counter({ department: entry[DEPARTMENT]!, officeLocation: entry[OFFICE]! })));
    counter.add(p.active, [n % 50]);
  }
  let table: CohortTable | undefined = aggregator.table();
  const built = performance.now();
  const builtCpu = mainThreadCpu() - startedCpu;
  const rssBefore = process.resourceUsage().maxRSS;
  const resumed = performance.now();
  const counts = suppressCohorts(table, { k: 10, kC: 5 });
  const checked = performance.now() - resumed + built;
  const rssCheck = process.resourceUsage().maxRSS - rssBefore;
  const cells = table.cells.length;
  // The heap the table holds: with it, and without it, after full collections.
  const heap = () => {
    for (let i = 0; i < 3; i++) global.gc?.();
    return process.memoryUsage().heapUsed;
  };
  const heapWith = heap();
  table = aggregator = undefined;
  counters.clear();
  const heapTable = heapWith - heap();
  const seconds = (from: number, to: number) => `${((to - from) / 1000).toFixed(2)} s`.padStart(8);
  const perCell = (from: number, to: number) => `${(((to - from) * 1e3) / cells).toFixed(1)} us`.padStart(8);
  return [
    String(directory.domain('department').length - 2).padStart(6),
    String(cells).padStart(8),
    seconds(started, built),
    `${(builtCpu / 1000).toFixed(2)} s`.padStart(8),
    perCell(started, built),
    seconds(built, checked),
    perCell(built, checked),
    `${counts.primary}/${counts.complement}/${counts.secondary}`.padStart(16),
    (counts.lpVerified ? 'verified' : 'NOT verified').padEnd(12),
    `${(heapTable / 2 ** 20).toFixed(0)} MB`.padStart(7),
    `+${(rssCheck / 1024).toFixed(0)} MB`.padStart(8),
    `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`.padStart(8),
  ].join('  ');
}

if (process.argv[2] === '--one') console.log(run(Number(process.argv[3])));
else {
  const sizes = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [10, 1000, 6000];
  console.log(`${USERS} users, departments x ${OFFICES} offices; dimensions: ${DIMENSIONS.join(', ')}; k = 10, k_c = 5; each size in its own process`);
  console.log(' depts     cells     build  (CPU)     per cell    check  per cell  primary/compl/sec  attacker LP   table  check +RSS  peak RSS');
  // Each size in a process of its own, so that one's garbage and heap do not weigh on the next.
  for (const departments of sizes) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', String(departments)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.status !== 0) throw new Error(`the run at ${departments} departments failed`);
    process.stdout.write(child.stdout);
  }
  console.log('build: key sets, cells and relations, and 300,000 users joined to the directory and counted (wall time; CPU: the main thread\'s, which waiting for a core on a loaded machine does not inflate); check: primary, complement and secondary suppression with the attacker LP (decomposed); table: heap the table holds (after a full collection); check +RSS: how far the check raised the peak RSS; peak RSS: the whole process (300,000 people and the directory included); targets at 6,000 x 50: build < 1 s, check < 10 s');
}
