/**
 * Benchmark: the cold org score's CPU-bound parts, in process, for several source trees side by side (this one
 * and, say, an export of `main`: `git archive main | tar -x -C /tmp/main && ln -s $PWD/node_modules
 * /tmp/main/node_modules`). Each round runs every tree once, one after the other, so a shared machine's load
 * falls on all alike; it prints each tree's CPU time (minimum and median over rounds, and every round).
 * CPU time is the process's (every thread) and the main thread's apart. Measurements (`--only NAME` runs one):
 * - `validation`: validateCsvReport over the score's 7 reports (64 KiB chunks);
 * - `facts`: the same with the score's facts summarised in the pass, then joined (bench/score-validate.ts's first);
 * - `fetch`: SnapshotCache fetches of the 7 reports from an in-memory client (16 KiB chunks, like TLS records):
 *   validation, facts, sealing and writing the spill file, its digest; wall time beside CPU, and the longest
 *   main-thread CPU between two turns of a 10 ms timer (as bench/score-scale.ts measures it in the proxy);
 * - `fetch-all`: the same, the seven fetched at once as the org score leases them (their chunks interleave);
 * - `directory`: Directory.fromPages over 300 pages of 999 users (JSON parsed before the clock starts);
 * - `directory-json`: the same 300 pages' bytes parsed as the tree's GraphClient.getJson parses a body;
 * - `tables`: the score's tables (scoreTables) without `by` and by department, from facts and a directory made
 *   before the clock starts (a new directory each round: the join to it is part of the work measured).
 * The reports come from bench/stand-in-graph.ts [users] --score (stop it once it prints its URL).
 * Run: node --import tsx bench/compare-trees.ts [--users N] [--rounds N] [--only NAME] tree...
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args.splice(at, 2)[1]!;
};
const users = Number(option('--users', '300000'));
const rounds = Number(option('--rounds', '5'));
const only = option('--only', '');
const trees = (args.length > 0 ? args : ['.']).map((tree) => resolve(tree));

interface Tree {
  readonly root: string;
  readonly csv: typeof import('../src/sanitize/csv-report.js');
  readonly identifiers: typeof import('../src/catalogue/identifiers.js');
  readonly facts: typeof import('../src/score/score-facts.js');
  readonly snapshots: typeof import('../src/graph/snapshots.js');
  readonly directory: typeof import('../src/cohort/directory.js');
  /** How the tree's GraphClient.getJson parses a body's bytes (undici's json(): decoded whole, before json-body.ts). */
  readonly parseJson: (bytes: Buffer) => unknown;
}
const loaded: Tree[] = await Promise.all(trees.map(async (root) => ({
  root,
  csv: await import(`${root}/src/sanitize/csv-report.ts`),
  identifiers: await import(`${root}/src/catalogue/identifiers.ts`),
  facts: await import(`${root}/src/score/score-facts.ts`),
  snapshots: await import(`${root}/src/graph/snapshots.ts`),
  directory: await import(`${root}/src/cohort/directory.ts`),
  parseJson: existsSync(`${root}/src/graph/json-body.ts`)
    ? ((await import(`${root}/src/graph/json-body.ts`)) as typeof import('../src/graph/json-body.js')).parseJsonBody
    : (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as unknown,
})));

const names = loaded[0]!.facts.SCORE_SOURCE_REPORTS.map((report) => report.name);
const files = names.map((name) => join(tmpdir(), `gpp-stand-in-${users}-${name}-D30.csv`));
if (!files.every((file) => existsSync(file))) {
  console.error(`render the reports first: node --import tsx bench/stand-in-graph.ts ${users} --score (stop it once it prints its URL)`);
  process.exit(1);
}
const bytes = new Map(names.map((name, i) => [name, readFileSync(files[i]!)]));
const keptMetrics = (report: { name: string }) => (report.name === 'getTeamsUserActivityUserDetail' ? ['Meeting Count'] : []);

function* chunks(data: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}
async function* chunksAsync(data: Buffer, size: number): AsyncGenerator<Buffer> {
  yield* chunks(data, size);
}

/** The directory's pages as Graph sends them, from the simulator's tenant (as bench/stand-in-graph.ts does). */
async function directoryPages(): Promise<string[]> {
  const { SimulatedTenant } = await import('../src/simulator/tenant.js');
  const tenant = new SimulatedTenant({ users, seed: 1 });
  const pages: string[] = [];
  for (let start = 0; start < tenant.size; start += 999) {
    const value = [];
    for (let i = start; i < Math.min(tenant.size, start + 999); i++) {
      const u = tenant.user(i);
      if (u.deletedDay === null) value.push({ id: u.id, userPrincipalName: u.userPrincipalName, department: u.department, officeLocation: u.officeLocation, city: u.city, country: u.country, companyName: u.companyName, jobTitle: u.jobTitle });
    }
    pages.push(JSON.stringify({ value }));
  }
  return pages;
}

/** One measurement for one tree: resolves to [CPU seconds (all threads), wall seconds, main-thread CPU seconds] of the timed part. */
type Measure = (tree: Tree) => Promise<[number, number, number]>;
/** Per tree, the longest main-thread CPU between two turns of a 10 ms timer during a measurement (ms). */
const longestTurn = new Map<string, number>();
async function timed(run: () => Promise<unknown>, root = ''): Promise<[number, number, number]> {
  let turn = process.threadCpuUsage();
  const turns = setInterval(() => {
    const now = process.threadCpuUsage();
    longestTurn.set(root, Math.max(longestTurn.get(root) ?? 0, (now.user + now.system - turn.user - turn.system) / 1000));
    turn = now;
  }, 10);
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const mainCpu = process.threadCpuUsage();
  await run();
  const used = process.cpuUsage(cpu);
  const usedMain = process.threadCpuUsage(mainCpu);
  clearInterval(turns);
  return [(used.user + used.system) / 1e6, Number(process.hrtime.bigint() - wall) / 1e9, (usedMain.user + usedMain.system) / 1e6];
}

/** The score's facts of the seven reports, summarised in their validation pass and joined (as the score makes them). */
async function scoreFactsOf(tree: Tree): Promise<InstanceType<Tree['facts']['ScoreFacts']>> {
  const summarizer = tree.facts.scoreFactsSummarizer(keptMetrics);
  const facts = new tree.facts.ScoreFacts();
  for (const report of tree.facts.SCORE_SOURCE_REPORTS) {
    const summary = summarizer(report)!;
    await tree.csv.validateCsvReport(chunksAsync(bytes.get(report.name)!, 65_536), report, new tree.identifiers.NameForms(), (batch) => summary.add(batch), summary.columns);
    await facts.addReportFacts(summary.result());
  }
  return facts;
}

const measures: Record<string, () => Promise<Measure>> = {
  validation: async () => (tree) => timed(async () => {
    for (const report of tree.facts.SCORE_SOURCE_REPORTS) await tree.csv.validateCsvReport(chunksAsync(bytes.get(report.name)!, 65_536), report);
  }),
  facts: async () => (tree) => timed(() => scoreFactsOf(tree)),
  fetch: async () => async (tree) => {
    const client = { openCsv: async (call: { report: { name: string } }) => Readable.from(chunks(bytes.get(call.report.name)!, 16_384)) };
    const cache = new tree.snapshots.SnapshotCache({ client: client as never, ttlMs: 60_000, summarizeCsv: tree.facts.scoreFactsSummarizer(keptMetrics) });
    const result = await timed(async () => {
      const facts = new tree.facts.ScoreFacts();
      for (const report of tree.facts.SCORE_SOURCE_REPORTS) {
        const snapshot = await cache.lease({ version: 'v1.0', report, period: 'D30' }, 'csv');
        await facts.addReportFacts(snapshot.takeSummary() as InstanceType<typeof tree.facts.ReportFacts>);
        snapshot.release();
      }
    }, tree.root);
    cache.clear();
    return result;
  },
  'fetch-all': async () => async (tree) => {
    const client = { openCsv: async (call: { report: { name: string } }) => Readable.from(chunks(bytes.get(call.report.name)!, 16_384)) };
    const cache = new tree.snapshots.SnapshotCache({ client: client as never, ttlMs: 60_000, summarizeCsv: tree.facts.scoreFactsSummarizer(keptMetrics) });
    const result = await timed(async () => {
      const facts = new tree.facts.ScoreFacts();
      const snapshots = await Promise.all(tree.facts.SCORE_SOURCE_REPORTS.map((report) => cache.lease({ version: 'v1.0', report, period: 'D30' }, 'csv')));
      for (const snapshot of snapshots) {
        await facts.addReportFacts(snapshot.takeSummary() as InstanceType<typeof tree.facts.ReportFacts>);
        snapshot.release();
      }
    }, tree.root);
    cache.clear();
    return result;
  },
  tables: async () => {
    const pages = (await directoryPages()).map((page) => (JSON.parse(page) as { value: Record<string, unknown>[] }).value);
    return async (tree) => {
      const facts = await scoreFactsOf(tree);
      const directory = new tree.directory.Directory(pages.flat());
      return timed(async () => {
        tree.facts.scoreTables(facts, directory, [], 10, 5);
        tree.facts.scoreTables(facts, directory, ['department'], 10, 5);
      });
    };
  },
  'directory-json': async () => {
    const pages = (await directoryPages()).map((page) => Buffer.from(page));
    return async (tree) => {
      // Each page's bytes fresh, as they come from a socket.
      const fresh = pages.map((page) => Buffer.from(page));
      return timed(async () => {
        for (const page of fresh) tree.parseJson(page);
      });
    };
  },
  directory: async () => {
    const pages = await directoryPages();
    return async (tree) => {
      const parsed = pages.map((page) => (JSON.parse(page) as { value: Record<string, unknown>[] }).value);
      return timed(() => tree.directory.Directory.fromPages((async function* () {
        yield* parsed;
      })()));
    };
  },
};

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`${users.toLocaleString('en')} users; ${rounds} rounds, trees alternated; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const [name, make] of Object.entries(measures).filter(([name]) => only === '' || name === only)) {
  const measure = await make();
  const cpu: number[][] = loaded.map(() => []);
  const wall: number[][] = loaded.map(() => []);
  const main: number[][] = loaded.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, tree] of loaded.entries()) {
      const [c, w, m] = await measure(tree);
      cpu[i]!.push(c);
      wall[i]!.push(w);
      main[i]!.push(m);
    }
  }
  for (const [i, tree] of loaded.entries()) {
    const list = cpu[i]!.map((c) => c.toFixed(2)).join(' ');
    const turn = name.startsWith('fetch') ? `; longest uninterrupted CPU ${longestTurn.get(tree.root)?.toFixed(0)} ms` : '';
    console.log(`${name} ${tree.root}: CPU min ${Math.min(...cpu[i]!).toFixed(2)} s, median ${median(cpu[i]!).toFixed(2)} s [${list}]; wall min ${Math.min(...wall[i]!).toFixed(2)} s, median ${median(wall[i]!).toFixed(2)} s; main thread CPU min ${Math.min(...main[i]!).toFixed(2)} s, median ${median(main[i]!).toFixed(2)} s${turn}`);
  }
}
console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
