/**
 * From the score's source reports to score cohorts: each report's rows set facts about their person (joined by
 * UPN across reports: with concealed names the UPN is the same hash in every report, so the organisation-level
 * join still works; a row without a user name, such as Graph's `(Unknown)`, is a person known from its one
 * report, joined to nothing), then every category becomes a cohort table (people counted = users, people who qualify =
 * active) that goes through the same suppression as any cohort, with k_org as its minimum size.
 */
import { findReport, type ReportSpec } from '../catalogue/catalogue.js';
import { CANONICAL_NAME, NOT_A_USER_NAME, userNameAt } from '../catalogue/identifiers.js';
import { grownToHold, NumberColumn, StringColumn } from '../event-loop/columns.js';
import { IdentifierMap } from '../event-loop/identifier-map.js';
import { nextTurn, turnIsOver } from '../event-loop/turns.js';
import { readCsvBatches, type CsvBatch } from '../sanitize/csv-report.js';
import { blankRefreshDate, MissingColumnError } from '../sanitize/errors.js';
import { InternalInvariantError } from '../errors/catalogue.js';
import { canonicalIdentifier } from '../sanitize/pseudonyms.js';
import { emptyFacts, SCORE_CATEGORIES, type PersonFacts, type ScoreCategory } from './categories.js';
import { CohortAggregator, parseDimension } from '../cohort/aggregate.js';
import { DIRECTORY_ATTRIBUTES, directoryKnowledge, NOT_IN_DIRECTORY, type Directory, type DirectoryAttribute } from '../cohort/directory.js';
import { suppressCohorts, type SuppressionCounts } from '../cohort/suppress.js';
import type { CohortTable } from '../cohort/table.js';
import { KeptReportRows, type CompanionMeasure } from '../cohort/report-users.js';

type FactFlag = Exclude<keyof PersonFacts, 'teamsPlatforms'>;
/** The flags of PersonFacts, in code order (Teams platforms take the three bits above them). */
const FACT_FLAGS = Object.keys(emptyFacts()).filter((name) => name !== 'teamsPlatforms') as FactFlag[];
/** Each flag's bit in a facts code. */
const BIT = Object.fromEntries(FACT_FLAGS.map((flag, i) => [flag, 1 << i])) as Readonly<Record<FactFlag, number>>;
/** Distinct facts codes: a bit per flag, three for the Teams platforms. */
const FACT_CODES = 2 ** (FACT_FLAGS.length + 3);
const factsCode = (p: PersonFacts) => FACT_FLAGS.reduce((code, flag, i) => (p[flag] ? code | (1 << i) : code), p.teamsPlatforms << FACT_FLAGS.length);

/** Whether a validated yes/no cell says yes (`true` or `yes` in any case), read without a regular expression: it runs per cell. */
const yes = (text: string) =>
  text.length === 3 ? (text.charCodeAt(0) | 0x20) === 121 && (text.charCodeAt(1) | 0x20) === 101 && (text.charCodeAt(2) | 0x20) === 115
  : text.length === 4 && (text.charCodeAt(0) | 0x20) === 116 && (text.charCodeAt(1) | 0x20) === 114 && (text.charCodeAt(2) | 0x20) === 117 && (text.charCodeAt(3) | 0x20) === 101;
const count = (text: string) => (text === '' ? 0 : Number(text));
const anyYes = (cells: readonly string[], from: number, to: number) => {
  for (let i = from; i < to; i++) if (yes(cells[i]!)) return true;
  return false;
};
/** `bit` when `set`, else 0. */
const when = (set: boolean, bit: number) => (set ? bit : 0);

/**
 * What each source report contributes to a person's facts: the columns it reads (by header) and the facts code
 * their cells (in that order) give a row: bits of PersonFacts' flags (BIT), set when the row shows the fact;
 * a person's code is the union of their rows'. The columns are found once per report, not per row.
 */
interface FactsReader {
  readonly headers: readonly string[];
  code(cells: readonly string[]): number;
}

const READERS: Readonly<Record<string, FactsReader>> = {
  getOffice365ActiveUserDetail: {
    headers: ['Has Exchange License', 'Has Teams License', 'Has Yammer License', 'Has OneDrive License', 'Has SharePoint License'],
    code: ([exchange, teams, yammer, oneDrive, sharePoint]) =>
      when(yes(exchange!), BIT.hasExchange) | when(yes(teams!), BIT.hasTeams) | when(yes(yammer!), BIT.hasYammer) | when(yes(oneDrive!), BIT.hasOneDrive) | when(yes(sharePoint!), BIT.hasSharePoint),
  },
  getEmailActivityUserDetail: {
    headers: ['Send Count'],
    code: ([sent]) => when(count(sent!) > 0, BIT.sentEmail),
  },
  getTeamsUserActivityUserDetail: {
    headers: ['Post Messages', 'Reply Messages', 'Team Chat Message Count', 'Private Chat Message Count', 'Meeting Count', 'Video Duration In Seconds', 'Screen Share Duration In Seconds'],
    code: ([posts, replies, teamChat, privateChat, meetings, video, screenShare]) => {
      const channel = count(posts!) + count(replies!);
      return (
        when(count(teamChat!) + count(privateChat!) + channel > 0, BIT.sentTeamsMessages) | when(channel > 0, BIT.postedInChannels) |
        when(count(meetings!) > 0, BIT.inMeetings) | when(count(video!) + count(screenShare!) > 0, BIT.usedVideoOrScreenShare)
      );
    },
  },
  getYammerActivityUserDetail: {
    headers: ['Posted Count'],
    code: ([posted]) => when(count(posted!) > 0, BIT.postedInCommunities),
  },
  getOneDriveActivityUserDetail: {
    headers: ['Viewed Or Edited File Count', 'Shared Internally File Count', 'Shared Externally File Count'],
    code: ([worked, sharedInternally, sharedExternally]) => when(count(worked!) > 0, BIT.workedWithFilesOneDrive) | when(count(sharedInternally!) + count(sharedExternally!) > 0, BIT.sharedFiles),
  },
  getSharePointActivityUserDetail: {
    headers: ['Viewed Or Edited File Count', 'Shared Internally File Count', 'Shared Externally File Count'],
    code: ([worked, sharedInternally, sharedExternally]) => when(count(worked!) > 0, BIT.workedWithFilesSharePoint) | when(count(sharedInternally!) + count(sharedExternally!) > 0, BIT.sharedFiles),
  },
  getTeamsDeviceUsageUserDetail: {
    headers: ['Used Windows', 'Used Mac', 'Used Linux', 'Used  Chrome OS', 'Used iOS', 'Used Android Phone', 'Used Windows Phone', 'Used Web'],
    // Platform classes: 1 desktop, 2 mobile, 4 web.
    code: (cells) => (when(anyYes(cells, 0, 4), 1) | when(anyYes(cells, 4, 7), 2) | when(yes(cells[7]!), 4)) << FACT_FLAGS.length,
  },
};

/**
 * A person's facts held as their code: one small object per person, read through PersonFacts' fields (getters,
 * defined below from FACT_FLAGS); the join sets `code` bits, nothing else writes to it.
 */
class CodedFacts {
  constructor(public code: number) {}
}
// The fields of PersonFacts, as getters over the code (declaration merging types them).
interface CodedFacts extends Readonly<PersonFacts> {}
FACT_FLAGS.forEach((flag, i) => Object.defineProperty(CodedFacts.prototype, flag, { get(this: CodedFacts) { return (this.code & (1 << i)) !== 0; } }));
Object.defineProperty(CodedFacts.prototype, 'teamsPlatforms', { get(this: CodedFacts) { return this.code >> FACT_FLAGS.length; } });
const codeOf = (p: PersonFacts) => (p instanceof CodedFacts ? p.code : factsCode(p));

/**
 * How many people a PersonIndex holds before a new one is started (~100 bytes each). An index may pass it by one
 * summarizer's reports, and by a score's: a score joins its people in the index of its first report (JoinedPeople)
 * and numbers there the people of a report read into another one. A cached score (score/org-scores.ts, a few at
 * most) keeps its index alive after the cache has started a new one.
 */
export const MAX_PEOPLE_INDEXED = 1_000_000;

/**
 * Canonical UPNs numbered in order of first sight, shared by the score reports one snapshot cache summarizes: a
 * report's facts hold a number per row, and the score joins people by those numbers (JoinedPeople), by name only
 * for a report numbered in another index.
 * Each UPN is held once, copied out of the report's text (a substring would keep the whole text alive).
 */
export class PersonIndex {
  /** Canonical UPNs by number (a StringColumn: grows without copying at tenant scale). */
  readonly upns = new StringColumn();
  /** Numbers by name (an IdentifierMap: grows without one long pause at tenant scale). */
  private readonly ids = new IdentifierMap<number>();

  get size(): number {
    return this.upns.length;
  }

  /**
   * The person's number, numbering a new name. `previous` is the number this report's reader was given for its
   * last row (-1 for none): reports that list people in the same order (sorted alike, or one a part of another)
   * find the next row's person right after it, a comparison instead of a lookup by name. Each reader passes its
   * own: the score's seven downloads are read at once into one index, and a cursor shared by them would be
   * another report's. At 300,000 users in bench/score-scale.ts, 300,000 of the 2.1 million calls look a name up
   * (its first sighting), the rest compare.
   */
  idOf(upn: string, previous = -1): number {
    if (this.upns.at(previous + 1) === upn) return previous + 1;
    let id = this.ids.get(upn);
    if (id === undefined) {
      // A copy of exactly the name's code units: UTF-8 would turn a lone surrogate (a source given as strings) into
      // U+FFFD, a key the name is never found by again (a new number per row, counted once per row).
      let copy = Buffer.from(upn, 'utf8').toString('utf8');
      if (copy !== upn) copy = Buffer.from(upn, 'utf16le').toString('utf16le');
      id = this.upns.length;
      this.ids.addNew(copy, id);
      this.upns.push(copy);
    }
    return id;
  }

  /** The person's number, or undefined for a name not numbered (numbers nobody). */
  find(upn: string): number | undefined {
    return this.ids.get(upn);
  }
}

/** What a ReportFacts holds, as one thread hands it to another (graph/csv-validation.ts). */
export interface ReportFactsData {
  readonly namedIds: NumberColumn;
  readonly namedCodes: Int32Array;
  readonly unnamedCodes: Int32Array;
  readonly rows: number;
  readonly refreshDate: string | null;
}

/**
 * One report's contribution to people's facts, read from its rows in a single pass (the snapshot cache feeds it
 * the batches of its validation pass: graph/snapshots.ts summarizeCsv): each named row's person (a number in
 * `index`) and facts code, in row order, and the codes of the rows without a user name.
 */
export class ReportFacts {
  /** The named rows' people, as numbers in `index`, in row order. */
  readonly namedIds: NumberColumn;
  /** The named rows' facts codes, in the order of `namedIds`. */
  readonly namedCodes: NumberColumn;
  /** The facts codes of rows without a user name, in row order. */
  readonly unnamedCodes: NumberColumn;
  rows: number;
  /** The first row's Report Refresh Date ('' read as none). */
  refreshDate: string | null;
  private readonly reader: FactsReader;
  private positions: number[] = [];
  private upn = -1;
  /** Whether the batches' userNames judge the column read as the UPN. */
  private upnJudged = false;
  private refresh = -1;
  /** The number `index` gave this report's last named row (PersonIndex.idOf's cursor). */
  private lastId = -1;

  constructor(
    readonly report: ReportSpec,
    readonly index = new PersonIndex(),
    /** Facts already read (by another thread, people numbered in `index`); more rows may still be added. */
    read?: ReportFactsData,
    /** The rows kept for the report's organisation cohort table as they are read (scoreFactsSummarizer). */
    readonly kept?: KeptReportRows,
  ) {
    const reader = READERS[report.name];
    if (reader === undefined) throw new InternalInvariantError(`${report.name} does not feed the score`);
    this.reader = reader;
    // Taken as they are (a worker's codes copied a block at a time): 300,000 rows copied value by value held the
    // event loop for 20-65 ms.
    this.namedIds = read?.namedIds ?? new NumberColumn('int32');
    this.namedCodes = read !== undefined ? NumberColumn.fromInt32Array(read.namedCodes) : new NumberColumn('int32');
    this.unnamedCodes = read !== undefined ? NumberColumn.fromInt32Array(read.unnamedCodes) : new NumberColumn('int32');
    this.rows = read?.rows ?? 0;
    this.refreshDate = read?.refreshDate ?? null;
  }

  /** Whether the report feeds the score (a ReportFacts can be made for it). */
  static feeds(report: ReportSpec): boolean {
    return READERS[report.name] !== undefined;
  }

  /** A whole report, read from CSV bytes. */
  static async read(report: ReportSpec, source: AsyncIterable<Buffer | string>): Promise<ReportFacts> {
    const facts = new ReportFacts(report);
    for await (const batch of readCsvBatches(source, report)) facts.add(batch);
    return facts;
  }

  /** The columns (headers) it reads: the validation pass hands on only these (CsvSummarizer.columns). */
  get columns(): readonly string[] {
    return [...new Set(['User Principal Name', 'Report Refresh Date', ...this.reader.headers, ...(this.kept?.columns ?? [])])];
  }

  /** The next batch of the report's rows (the first carries the header's layout). Throws MissingColumnError. */
  add(batch: CsvBatch): void {
    if (batch.layout !== undefined) {
      const index = new Map(batch.layout.flatMap((column, i) => (column === undefined ? [] : [[column.header, i] as const])));
      this.upn = index.get('User Principal Name') ?? -1;
      if (this.upn === -1) throw new MissingColumnError(this.report.name, 'User Principal Name', 'the score');
      this.upnJudged = batch.layout[this.upn]!.json === 'userPrincipalName';
      this.refresh = index.get('Report Refresh Date') ?? -1;
      this.positions = this.reader.headers.map((header) => index.get(header) ?? -1);
      this.kept?.layout(batch.layout);
    }
    if (batch.rows.length === 0) return;
    const missing = this.positions.indexOf(-1);
    if (missing !== -1) throw new MissingColumnError(this.report.name, this.reader.headers[missing]!, 'the score');
    if (this.rows === 0 && this.refresh !== -1) {
      // A release of unknown refresh would be kept within no refresh's patterns (sanitize/errors.ts blankRefreshDate).
      this.refreshDate = batch.rows[0]![this.refresh] || null;
      if (this.refreshDate === null) throw blankRefreshDate(this.report.name);
    }
    // One scratch cells array for every row: the pass allocates nothing per row of its own.
    const cells = new Array<string>(this.positions.length);
    // The validation pass judged each row's user name already (CsvBatch.userNames); other batches are judged here.
    const judged = this.upnJudged && batch.userNames?.length === batch.rows.length ? batch.userNames : undefined;
    for (let row = 0; row < batch.rows.length; row++) {
      const fields = batch.rows[row]!;
      for (let k = 0; k < cells.length; k++) cells[k] = fields[this.positions[k]!]!;
      const code = this.reader.code(cells);
      const upn = fields[this.upn]!;
      const name = judged !== undefined ? judged[row]! : userNameAt(upn, 0, upn.length);
      if (name !== NOT_A_USER_NAME) {
        const id = this.index.idOf((name & CANONICAL_NAME) !== 0 ? upn : canonicalIdentifier(upn), this.lastId);
        this.lastId = id;
        this.namedIds.push(id);
        this.namedCodes.push(code);
        this.kept?.add(id, code, fields);
      } else {
        this.unnamedCodes.push(code);
        this.kept?.add(-1, code, fields);
      }
    }
    this.rows += batch.rows.length;
  }

  result(): ReportFacts {
    return this;
  }
}

/**
 * The snapshot cache's summarizer for the score's reports (SnapshotCacheOptions.summarizeCsv): their facts, with
 * people numbered in one PersonIndex (a new one past MAX_PEOPLE_INDEXED, so names that churn stay bounded). A
 * report the score's categories are companions of (categoryCompanions: the Teams report) also keeps its rows for
 * its organisation cohort table (ReportFacts.kept), with the values of the metric columns `keptMetrics` names
 * (headers: those the policies' organisation tables sum), so the score's linked verdict does not read it again.
 */
export function scoreFactsSummarizer(keptMetrics: (report: ReportSpec) => readonly string[] = () => []): (report: ReportSpec) => ReportFacts | undefined {
  let index = new PersonIndex();
  return (report) => {
    if (!ReportFacts.feeds(report)) return undefined;
    if (index.size > MAX_PEOPLE_INDEXED) index = new PersonIndex();
    const reader = READERS[report.name]!;
    let metrics: readonly string[] = [];
    try {
      metrics = keptMetrics(report);
    } catch {
      // Without them the rows are kept all the same; a table summing a metric is then read from the CSV.
    }
    const kept = categoryCompanions(report.name).length > 0 ? new KeptReportRows(report, index.upns, reader.code, reader.headers, metrics) : undefined;
    return new ReportFacts(report, index, undefined, kept);
  };
}

/**
 * How many people are handled between two looks at the event loop's clock (event-loop/turns.ts): well under a
 * millisecond of work, so a turn ends close to its budget.
 */
const PEOPLE_PER_STEP = 256;

/** Set in a JoinedPeople code for every person joined (facts codes take the bits below it: FACT_CODES). */
const JOINED = 1 << 30;
if (FACT_CODES > JOINED) throw new InternalInvariantError('facts codes reach the JOINED bit');

/**
 * The named people's facts, joined by their numbers in one PersonIndex: the first report's. The snapshot cache
 * numbers the score's seven reports in one index (scoreFactsSummarizer), so joining them looks no name up; the
 * join by name cost 0.3 s of CPU at 300,000 users (issue 18). A report numbered in another index (ReportFacts.read,
 * or after the cache started a new index past MAX_PEOPLE_INDEXED) has each of its people numbered in this one by
 * name, once. Read as a Map by canonical UPN (get, size, and iteration in order of number); a person's facts are
 * the union (bitwise or) of their rows' codes.
 */
export class JoinedPeople implements Iterable<[string, PersonFacts]> {
  /** The numbering people are joined in: the first report's, adopted while nobody is joined. */
  private index = new PersonIndex();
  /** Per number of `index`: its person's facts code | JOINED; 0 for a number nobody joined (the index may number others). */
  private codes = new Int32Array(0);
  private count = 0;
  /** The highest number joined (-1: none). */
  private highest = -1;
  /** Per other index: each of its numbers in `index`, plus 1 (0: not yet looked up). */
  private readonly translations = new WeakMap<PersonIndex, Int32Array>();

  get size(): number {
    return this.count;
  }

  /** The names by number (Directory.entryAt joins the directory by them). */
  get names(): StringColumn {
    return this.index.upns;
  }

  /** One past the highest number joined so far (numbers run from 0; more may be joined later). */
  get numbers(): number {
    return this.highest + 1;
  }

  /** The facts code of the person numbered `id`, or undefined for a number nobody joined. */
  codeAt(id: number): number | undefined {
    const code = this.codes[id];
    return code === undefined || code === 0 ? undefined : code & ~JOINED;
  }

  /**
   * How `from`'s numbers read in this numbering: as they are for the same index (which is adopted while nobody is
   * joined), else each of its people numbered here by name, once (the index only grows: PersonIndex.idOf).
   */
  numbering(from: PersonIndex): (id: number) => number {
    if (this.count === 0 && this.index.size === 0) this.index = from;
    if (from === this.index) return (id) => id;
    const index = this.index;
    let translated = this.translations.get(from) ?? new Int32Array(0);
    return (id) => {
      if (id >= translated.length) this.translations.set(from, (translated = grownToHold(translated, id, from.size)));
      let mine = translated[id]! - 1;
      if (mine === -1) translated[id] = (mine = index.idOf(from.upns.at(id)!)) + 1;
      return mine;
    };
  }

  /** Joins a row of the person numbered `id` (numbering's result) with facts code `code`. */
  join(id: number, code: number): void {
    this.codes = grownToHold(this.codes, id, this.index.size);
    const known = this.codes[id]!;
    if (known === 0) {
      this.count++;
      if (id > this.highest) this.highest = id;
    }
    this.codes[id] = known | JOINED | code;
  }

  /** A person's facts by canonical UPN, or undefined for someone not joined. */
  get(upn: string): PersonFacts | undefined {
    const id = this.index.find(upn);
    const code = id === undefined ? undefined : this.codeAt(id);
    return code === undefined ? undefined : new CodedFacts(code);
  }

  /** Sets a person's facts by canonical UPN, replacing any joined before (people built by hand, as tests do). */
  set(upn: string, facts: PersonFacts): this {
    const id = this.index.idOf(upn);
    this.join(id, 0);
    this.codes[id] = JOINED | factsCode(facts);
    return this;
  }

  *keys(): IterableIterator<string> {
    for (const [upn] of this) yield upn;
  }

  /** People in the order of their numbers in the index they are joined in (not the order they were joined). */
  *[Symbol.iterator](): Iterator<[string, PersonFacts]> {
    for (let id = 0; id <= this.highest; id++) {
      const code = this.codeAt(id);
      if (code !== undefined) yield [this.index.upns.at(id)!, new CodedFacts(code)];
    }
  }
}

/**
 * People's facts, joined up one report at a time (named people by number: JoinedPeople). A row without a user name (Graph's
 * `(Unknown)` and the like) cannot be joined to the same person's rows in other reports: it is kept apart as a
 * person known from that one report only, counted in the categories that read only that report, and never
 * counted twice towards the organisation's size.
 */
export class ScoreFacts {
  /** The named people, joined by number (JoinedPeople). */
  readonly people = new JoinedPeople();
  /** Rows without a user name, each with the facts of its one report. */
  readonly unnamed: { readonly report: string; readonly facts: PersonFacts }[] = [];
  /** The reports' refresh date (the first report's first row's), which dates the score. */
  refreshDate: string | null = null;
  /**
   * Each report's own refresh date, by report name (Graph refreshes its reports apart, report by report:
   * graph-reports.md), for the directory pins (cohort/sources.ts DirectoryPins.forData).
   */
  readonly refreshDates = new Map<string, string | null>();
  private largestReport = 0;

  /**
   * How many people the organisation has at least: the named people, or the rows of the largest report if more
   * (its rows are different people, named or not). An unnamed row may be a named person of another report, so
   * adding unnamed rows across reports would overcount, and k_org must not be met by counting someone twice.
   */
  get organizationSize(): number {
    return Math.max(this.people.size, this.largestReport);
  }

  /** Reads a report's CSV and joins its facts in. Throws MissingColumnError or what reading the CSV throws. */
  async addReport(report: ReportSpec, source: AsyncIterable<Buffer | string>): Promise<void> {
    await this.addReportFacts(await ReportFacts.read(report, source));
  }

  /**
   * Joins one report's facts in (reports in SCORE_SOURCE_REPORTS order give the same result whichever way their
   * facts were read), letting the event loop turn when the turn's budget is spent (event-loop/turns.ts).
   */
  async addReportFacts(facts: ReportFacts): Promise<void> {
    this.refreshDate ??= facts.refreshDate;
    this.refreshDates.set(facts.report.name, facts.refreshDate);
    const { namedIds, namedCodes } = facts;
    const people = this.people;
    const numbered = people.numbering(facts.index);
    for (let row = 0; row < namedIds.length; row++) {
      people.join(numbered(namedIds.at(row)!), namedCodes.at(row)!);
      if ((row + 1) % PEOPLE_PER_STEP === 0 && turnIsOver()) await nextTurn();
    }
    for (const code of facts.unnamedCodes) this.unnamed.push({ report: facts.report.name, facts: new CodedFacts(code) });
    this.largestReport = Math.max(this.largestReport, facts.rows);
  }
}

export interface CategoryTable {
  readonly category: ScoreCategory;
  readonly table: CohortTable;
  readonly counts: SuppressionCounts;
}

/**
 * Runs `suppress` on a category's table within the patterns its refresh's releases were made with (score/org-scores.ts,
 * cohort/tables-made.ts TablesMade.withinPatterns), returning the table's counts; by default, as it is.
 */
export type CategoryPatterns = (category: ScoreCategory, table: CohortTable, suppress: () => SuppressionCounts) => SuppressionCounts;

/** People grouped by the directory tuple and the facts they share: counted once per group, not once per person. */
interface FactGroup {
  readonly attributes: Readonly<Record<string, string>>;
  readonly facts: PersonFacts;
  people: number;
}


/**
 * Builds one suppressed cohort table per category, over `organization` and `by`, as steps: each `yield` is a
 * point where an async caller may let the event loop turn (event-loop/turns.ts runSteps; after every
 * PEOPLE_PER_STEP people and every category).
 * People are first grouped by directory tuple and facts, so a category's table costs one addition per group.
 */
export function* scoreTableSteps(facts: ScoreFacts, directory: Directory, by: readonly DirectoryAttribute[], kOrg: number, kC: number, within: CategoryPatterns = (_category, _table, suppress) => suppress()): Generator<void, CategoryTable[]> {
  const tupleIds = new Map<readonly string[] | undefined, number>();
  const named = new Map<number, FactGroup>();
  const { people } = facts;
  for (let id = 0; id < people.numbers; id++) {
    // Every number is a step, joined or not: the index may number many people this score does not have.
    if ((id + 1) % PEOPLE_PER_STEP === 0) yield;
    const code = people.codeAt(id);
    if (code === undefined) continue;
    const entry = by.length > 0 ? directory.entryAt(people.names, id) : undefined;
    let tuple = tupleIds.get(entry);
    if (tuple === undefined) tupleIds.set(entry, (tuple = tupleIds.size));
    const key = tuple * FACT_CODES + code;
    let group = named.get(key);
    if (group === undefined) {
      const attributes = Object.fromEntries(by.map((a) => [a, entry?.[DIRECTORY_ATTRIBUTES.indexOf(a)] ?? NOT_IN_DIRECTORY]));
      named.set(key, (group = { attributes, facts: new CodedFacts(code), people: 0 }));
    }
    group.people++;
  }
  // Unnamed rows, by their one report and facts.
  const outside = Object.fromEntries(by.map((a) => [a, NOT_IN_DIRECTORY]));
  const unnamed = new Map<string, FactGroup & { readonly report: string }>();
  for (const { report, facts: person } of facts.unnamed) {
    const key = `${report} ${codeOf(person)}`;
    let group = unnamed.get(key);
    if (group === undefined) unnamed.set(key, (group = { report, attributes: outside, facts: person, people: 0 }));
    group.people++;
  }
  const dimensions = ['organization', ...by].map(parseDimension);
  const tables: CategoryTable[] = [];
  for (const category of SCORE_CATEGORIES) {
    const aggregator = new CohortAggregator({
      dimensions,
      metrics: [],
      sameEverywhere: NOT_IN_DIRECTORY,
      keySet: (parts) => directory.domain(parts[0] as DirectoryAttribute).map((v) => [v]),
      known: directoryKnowledge(directory),
    });
    for (const { attributes, facts: person, people } of named.values()) {
      if (category.counted(person)) aggregator.add({ attributes, active: category.qualifies(person), metrics: [] }, people);
    }
    // An unnamed row's facts are whole only for a category that reads its one report and no other.
    for (const { report, attributes, facts: person, people } of unnamed.values()) {
      if (category.reports.length !== 1 || category.reports[0] !== report || !category.counted(person)) continue;
      aggregator.add({ attributes, active: category.qualifies(person), metrics: [] }, people);
    }
    const table = aggregator.table();
    tables.push({ category, table, counts: within(category, table, () => suppressCohorts(table, { k: kOrg, kC })) });
    yield;
  }
  return tables;
}

/** One suppressed cohort table per category, over `organization` and the requested directory attributes. */
export function scoreTables(facts: ScoreFacts, directory: Directory, by: readonly DirectoryAttribute[], kOrg: number, kC: number): CategoryTable[] {
  const steps = scoreTableSteps(facts, directory, by, kOrg, kC);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

export const SCORE_SOURCE_REPORTS = Object.keys(READERS).map((name) => findReport(name)!);

/**
 * The score categories read from `report` alone (Meetings from the Teams user activity report), as companions of
 * that report's cohort tables (cohort/report-users.ts CompanionMeasure): the same rows give both, and the
 * definitions nest them (a person in Teams meetings is an active Teams user), so they are suppressed as one table.
 * Categories that join several reports are not companions of any one.
 */
export function categoryCompanions(report: string): CompanionMeasure[] {
  const reader = READERS[report];
  if (reader === undefined) return [];
  return SCORE_CATEGORIES.filter((c) => c.reports.length === 1 && c.reports[0] === report).map((category) => ({
    name: category.id,
    headers: reader.headers,
    ...(category.countedBy !== undefined ? { countedBy: category.countedBy } : {}),
    ...(category.tiedTo !== undefined ? { tiedTo: category.tiedTo } : {}),
    code: reader.code,
    // A person's rows set facts bits (a fact any row shows is the person's), read as the score reads them.
    combine: (person: number, row: number) => person | row,
    counted: (person: number) => category.counted(new CodedFacts(person)),
    qualifies: (person: number) => category.qualifies(new CodedFacts(person)),
  }));
}
