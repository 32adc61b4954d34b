/**
 * From the score's source reports to score cohorts: each report's rows set facts about their person (joined by
 * UPN across reports: with concealed names the UPN is the same hash in every report, so the organisation-level
 * join still works; a row without a user name, such as Graph's `(Unknown)`, is a person known from its one
 * report, joined to nothing), then every category becomes a cohort table (people counted = users, people who qualify =
 * active) that goes through the same suppression as any cohort, with k_org as its minimum size.
 */
import { findReport, type ReportSpec } from '../catalogue/catalogue.js';
import { isUserName } from '../catalogue/identifiers.js';
import { readCsvBatches } from '../sanitize/csv-report.js';
import { MissingColumnError } from '../sanitize/errors.js';
import { InternalInvariantError } from '../errors/catalogue.js';
import { canonicalIdentifier } from '../sanitize/pseudonyms.js';
import { emptyFacts, SCORE_CATEGORIES, type PersonFacts, type ScoreCategory } from './categories.js';
import { CohortAggregator, parseDimension } from '../cohort/aggregate.js';
import { DIRECTORY_ATTRIBUTES, NOT_IN_DIRECTORY, type Directory, type DirectoryAttribute } from '../cohort/directory.js';
import { suppressCohorts, type SuppressionCounts } from '../cohort/suppress.js';
import type { CohortTable } from '../cohort/table.js';

type Cell = (header: string) => string;
const yes = (text: string) => /^(true|yes)$/i.test(text);
const count = (text: string) => (text === '' ? 0 : Number(text));
const seconds = (text: string) => count(text);

/** What each source report contributes to a person's facts. */
const READERS: Readonly<Record<string, (f: PersonFacts, cell: Cell) => void>> = {
  getOffice365ActiveUserDetail: (f, cell) => {
    f.hasExchange ||= yes(cell('Has Exchange License'));
    f.hasTeams ||= yes(cell('Has Teams License'));
    f.hasYammer ||= yes(cell('Has Yammer License'));
    f.hasOneDrive ||= yes(cell('Has OneDrive License'));
    f.hasSharePoint ||= yes(cell('Has SharePoint License'));
  },
  getEmailActivityUserDetail: (f, cell) => {
    f.sentEmail ||= count(cell('Send Count')) > 0;
  },
  getTeamsUserActivityUserDetail: (f, cell) => {
    const channel = count(cell('Post Messages')) + count(cell('Reply Messages'));
    f.sentTeamsMessages ||= count(cell('Team Chat Message Count')) + count(cell('Private Chat Message Count')) + channel > 0;
    f.postedInChannels ||= channel > 0;
    f.inMeetings ||= count(cell('Meeting Count')) > 0;
    f.usedVideoOrScreenShare ||= seconds(cell('Video Duration In Seconds')) + seconds(cell('Screen Share Duration In Seconds')) > 0;
  },
  getYammerActivityUserDetail: (f, cell) => {
    f.postedInCommunities ||= count(cell('Posted Count')) > 0;
  },
  getOneDriveActivityUserDetail: (f, cell) => {
    f.workedWithFilesOneDrive ||= count(cell('Viewed Or Edited File Count')) > 0;
    f.sharedFiles ||= count(cell('Shared Internally File Count')) + count(cell('Shared Externally File Count')) > 0;
  },
  getSharePointActivityUserDetail: (f, cell) => {
    f.workedWithFilesSharePoint ||= count(cell('Viewed Or Edited File Count')) > 0;
    f.sharedFiles ||= count(cell('Shared Internally File Count')) + count(cell('Shared Externally File Count')) > 0;
  },
  getTeamsDeviceUsageUserDetail: (f, cell) => {
    const desktop = ['Used Windows', 'Used Mac', 'Used Linux', 'Used  Chrome OS'].some((h) => yes(cell(h)));
    const mobile = ['Used iOS', 'Used Android Phone', 'Used Windows Phone'].some((h) => yes(cell(h)));
    f.teamsPlatforms |= (desktop ? 1 : 0) | (mobile ? 2 : 0) | (yes(cell('Used Web')) ? 4 : 0);
  },
};

/**
 * People's facts, by canonical UPN, built up one report at a time. A row without a user name (Graph's
 * `(Unknown)` and the like) cannot be joined to the same person's rows in other reports: it is kept apart as a
 * person known from that one report only, counted in the categories that read only that report, and never
 * counted twice towards the organisation's size.
 */
export class ScoreFacts {
  readonly people = new Map<string, PersonFacts>();
  /** Rows without a user name, each with the facts of its one report. */
  readonly unnamed: { readonly report: string; readonly facts: PersonFacts }[] = [];
  /** The reports' refresh date (the first row's), which dates the score. */
  refreshDate: string | null = null;
  private largestReport = 0;

  /**
   * How many people the organisation has at least: the named people, or the rows of the largest report if more
   * (its rows are different people, named or not). An unnamed row may be a named person of another report, so
   * adding unnamed rows across reports would overcount, and k_org must not be met by counting someone twice.
   */
  get organizationSize(): number {
    return Math.max(this.people.size, this.largestReport);
  }

  async addReport(report: ReportSpec, source: AsyncIterable<Buffer | string>): Promise<void> {
    const read = READERS[report.name];
    if (read === undefined) throw new InternalInvariantError(`${report.name} does not feed the score`);
    let index = new Map<string, number>();
    let upn = -1;
    let rows = 0;
    for await (const batch of readCsvBatches(source, report)) {
      if (batch.layout !== undefined) {
        index = new Map(batch.layout.flatMap((column, i) => (column === undefined ? [] : [[column.header, i] as const])));
        upn = index.get('User Principal Name') ?? -1;
        const refresh = index.get('Report Refresh Date');
        if (this.refreshDate === null && refresh !== undefined && batch.rows[0] !== undefined) this.refreshDate = batch.rows[0][refresh] || null;
        if (upn === -1) throw new MissingColumnError(report.name, 'User Principal Name', 'the score');
      }
      for (const fields of batch.rows) {
        rows++;
        let facts: PersonFacts | undefined;
        if (isUserName(fields[upn]!)) {
          const key = canonicalIdentifier(fields[upn]!);
          facts = this.people.get(key);
          if (facts === undefined) this.people.set(key, (facts = emptyFacts()));
        } else {
          this.unnamed.push({ report: report.name, facts: (facts = emptyFacts()) });
        }
        read(facts, (header) => {
          const i = index.get(header);
          if (i === undefined) throw new MissingColumnError(report.name, header, 'the score');
          return fields[i]!;
        });
      }
    }
    this.largestReport = Math.max(this.largestReport, rows);
  }
}

export interface CategoryTable {
  readonly category: ScoreCategory;
  readonly table: CohortTable;
  readonly counts: SuppressionCounts;
}

/** One suppressed cohort table per category, over `organization` and the requested directory attributes. */
export function scoreTables(facts: ScoreFacts, directory: Directory, by: readonly DirectoryAttribute[], kOrg: number, kC: number): CategoryTable[] {
  const dimensions = ['organization', ...by].map(parseDimension);
  return SCORE_CATEGORIES.map((category) => {
    const aggregator = new CohortAggregator({
      dimensions,
      metrics: [],
      sameEverywhere: NOT_IN_DIRECTORY,
      keySet: (parts) => directory.domain(parts[0] as DirectoryAttribute).map((v) => [v]),
    });
    for (const [upn, person] of facts.people) {
      if (!category.counted(person)) continue;
      const entry = by.length > 0 ? directory.entryOf(upn) : undefined;
      const attributes = Object.fromEntries(by.map((a) => [a, entry?.[DIRECTORY_ATTRIBUTES.indexOf(a)] ?? NOT_IN_DIRECTORY]));
      aggregator.add({ attributes, active: category.qualifies(person), metrics: [] });
    }
    // An unnamed row's facts are whole only for a category that reads its one report and no other.
    const outside = Object.fromEntries(by.map((a) => [a, NOT_IN_DIRECTORY]));
    for (const { report, facts: person } of facts.unnamed) {
      if (category.reports.length !== 1 || category.reports[0] !== report || !category.counted(person)) continue;
      aggregator.add({ attributes: outside, active: category.qualifies(person), metrics: [] });
    }
    const table = aggregator.table();
    return { category, table, counts: suppressCohorts(table, { k: kOrg, kC }) };
  });
}

export const SCORE_SOURCE_REPORTS = Object.keys(READERS).map((name) => findReport(name)!);
