/**
 * Small random tenants for the release property tests (privacy.md G1, G2, G3, G8): departments x offices with a
 * few people in each cross (many crosses empty, departments often wholly in one office), people in the directory
 * but not in the reports, people in the reports but not in the directory, and the eight reports the score and the
 * Teams cohorts read, crafted from the simulator's rows so that every person's activity is exactly what the
 * generator chose. The truth the properties compare against is computed here from the generated people, by the
 * rules written out below from graph-reports.md and the score's documented definitions, never by product code.
 */
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { quoteCsvField } from '../../src/catalogue/csv.js';
import { simulatedReports } from '../redteam/helpers.js';

/** What one person did over the period (the facts the generator controls). */
export interface Person {
  /** Nothing at all in Teams (every Teams activity count 0). */
  readonly idle: boolean;
  /** Sent e-mail. */
  readonly mail: boolean;
  /** Viewed or edited files in OneDrive. */
  readonly files: boolean;
  /** Used Teams on a phone besides the desktop (only when not idle). */
  readonly mobile: boolean;
  /** Used video in Teams meetings (only when not idle). */
  readonly video: boolean;
}

export interface Cross {
  /** People of this department and office who are in the reports. */
  readonly people: readonly Person[];
  /** People of this department and office in the directory only (no licence: in no report). */
  readonly ghosts: number;
}

export interface RandomTenant {
  readonly departments: number;
  readonly offices: number;
  /** crosses[d * offices + o]. */
  readonly crosses: readonly Cross[];
  /** People in the reports whom the directory does not have (leavers, guests). */
  readonly outsiders: readonly Person[];
  readonly k: number;
  readonly kC: number;
  readonly kOrg: number;
}

export const NOT_IN_DIRECTORY = '(not in directory)';
export const departmentName = (d: number): string => `Dept${String.fromCharCode(65 + d)}`;
export const officeName = (o: number): string => `Office${String.fromCharCode(80 + o)}`;

const person = (idle: fc.Arbitrary<boolean>): fc.Arbitrary<Person> => fc.record({ idle, mail: fc.boolean(), files: fc.boolean(), mobile: fc.boolean(), video: fc.boolean() });
const weighted = <T>(often: fc.Arbitrary<T>, rarely: fc.Arbitrary<T>, weight = 3) => fc.oneof({ arbitrary: often, weight }, { arbitrary: rarely, weight: 1 });

/** 1-4 departments x 1-3 offices; a cross is empty half the time, else 1-12 people, with 0-2 directory-only people now and then. */
export const randomTenant: fc.Arbitrary<RandomTenant> = fc
  .record({ departments: fc.integer({ min: 1, max: 4 }), offices: fc.integer({ min: 1, max: 3 }) })
  .chain(({ departments, offices }) => fc.record({
    departments: fc.constant(departments),
    offices: fc.constant(offices),
    crosses: fc.array(
      fc.record({
        // Crosses where everyone was active, or where some were not: both are released when large enough (G2).
        people: weighted(fc.constant<Person[]>([]), fc.oneof(fc.array(person(fc.constant(false)), { minLength: 1, maxLength: 12 }), fc.array(person(fc.boolean()), { minLength: 1, maxLength: 12 })), 1),
        ghosts: weighted(fc.constant(0), fc.integer({ min: 1, max: 2 }), 4),
      }),
      { minLength: departments * offices, maxLength: departments * offices },
    ),
    outsiders: weighted(fc.constant<Person[]>([]), fc.array(person(fc.boolean()), { minLength: 1, maxLength: 3 })),
    k: fc.integer({ min: 2, max: 4 }),
    kC: fc.integer({ min: 2, max: 3 }),
    kOrgExtra: fc.integer({ min: 0, max: 2 }),
  }))
  .map(({ kOrgExtra, ...t }) => ({ ...t, kOrg: t.k + kOrgExtra }))
  // The reports must name someone the directory has (else the join is refused, rightly: ConcealedNames).
  .filter((t) => t.crosses.some((c) => c.people.length > 0));

/** Every person of the reports with their directory place (undefined: not in the directory). */
export function peopleOf(tenant: RandomTenant): { upn: string; person: Person; department?: string; office?: string }[] {
  const out: { upn: string; person: Person; department?: string; office?: string }[] = [];
  tenant.crosses.forEach((cross, i) => {
    const [d, o] = [Math.floor(i / tenant.offices), i % tenant.offices];
    cross.people.forEach((p, n) => out.push({ upn: `p${i}x${n}@contoso.onmicrosoft.com`, person: p, department: departmentName(d), office: officeName(o) }));
  });
  tenant.outsiders.forEach((p, n) => out.push({ upn: `leaver${n}@contoso.onmicrosoft.com`, person: p }));
  return out;
}

/**
 * Graph's /users answer: everyone of the crosses, in the reports or not. A cross's entries depend only on how many
 * people it has (in the reports or not), so two tenants with the same crosses' sizes have the same directory.
 */
export function directoryOf(tenant: RandomTenant): { value: { userPrincipalName: string; department: string; officeLocation: string }[] } {
  const value: { userPrincipalName: string; department: string; officeLocation: string }[] = [];
  tenant.crosses.forEach((cross, i) => {
    for (let n = 0; n < cross.people.length + cross.ghosts; n++) value.push({ userPrincipalName: `p${i}x${n}@contoso.onmicrosoft.com`, department: departmentName(Math.floor(i / tenant.offices)), officeLocation: officeName(i % tenant.offices) });
  });
  return { value };
}

/**
 * Another tenant with the same directory (every cross as many people, in the reports or not) and other counts:
 * who of a cross is in the reports, who was active, and who outside the directory is in the reports.
 */
export function sameDirectory(tenant: RandomTenant): fc.Arbitrary<RandomTenant> {
  return fc.record({
    crosses: fc.tuple(...tenant.crosses.map((cross) => {
      const size = cross.people.length + cross.ghosts;
      return fc.integer({ min: 0, max: size }).chain((inReports) => fc.record({ people: fc.array(person(fc.boolean()), { minLength: inReports, maxLength: inReports }), ghosts: fc.constant(size - inReports) }));
    })),
    outsiders: fc.array(person(fc.boolean()), { maxLength: 3 }),
  }).map(({ crosses, outsiders }) => ({ ...tenant, crosses, outsiders }))
    .filter((t) => t.crosses.some((c) => c.people.length > 0));
}

/** Departments and offices the directory has (a value exists because someone in the directory holds it). */
export function directoryDomain(tenant: RandomTenant): { departments: string[]; offices: string[]; occupied: Set<string> } {
  const occupied = new Set<string>();
  tenant.crosses.forEach((cross, i) => {
    if (cross.people.length + cross.ghosts > 0) occupied.add(`${departmentName(Math.floor(i / tenant.offices))}|${officeName(i % tenant.offices)}`);
  });
  const departments = [...new Set([...occupied].map((k) => k.split('|')[0]!))].sort();
  const offices = [...new Set([...occupied].map((k) => k.split('|')[1]!))].sort();
  return { departments, offices, occupied };
}

export const TEAMS = 'getTeamsUserActivityUserDetail';
/** The reports the org score reads. */
export const SCORE_REPORTS = [
  'getOffice365ActiveUserDetail', 'getEmailActivityUserDetail', TEAMS, 'getYammerActivityUserDetail',
  'getOneDriveActivityUserDetail', 'getSharePointActivityUserDetail', 'getTeamsDeviceUsageUserDetail',
];

/** Cells a person's facts set in each report; every other cell is the simulator's template row. */
function cellsFor(report: string, p: Person): Record<string, string> {
  const teams = !p.idle;
  const n = (on: boolean, value = '3') => (on ? value : '0');
  const yesNo = (on: boolean) => (on ? 'Yes' : 'No');
  switch (report) {
    case 'getOffice365ActiveUserDetail':
      return { 'Has Exchange License': 'True', 'Has Teams License': 'True', 'Has Yammer License': 'False', 'Has OneDrive License': 'True', 'Has SharePoint License': 'True' };
    case 'getEmailActivityUserDetail':
      return { 'Send Count': n(p.mail) };
    case 'getYammerActivityUserDetail':
      return { 'Posted Count': '0' };
    case 'getOneDriveActivityUserDetail':
      return { 'Viewed Or Edited File Count': n(p.files), 'Shared Internally File Count': '0', 'Shared Externally File Count': '0' };
    case 'getSharePointActivityUserDetail':
      return { 'Viewed Or Edited File Count': '0', 'Synced File Count': '0', 'Shared Internally File Count': '0', 'Shared Externally File Count': '0', 'Visited Page Count': '0' };
    case 'getTeamsDeviceUsageUserDetail':
      return { 'Used Web': 'No', 'Used Windows Phone': 'No', 'Used iOS': yesNo(teams && p.mobile), 'Used Mac': 'No', 'Used Android Phone': 'No', 'Used Windows': yesNo(teams), 'Used  Chrome OS': 'No', 'Used Linux': 'No' };
    case TEAMS: {
      const video = teams && p.video;
      return {
        'Team Chat Message Count': n(teams, '4'), 'Private Chat Message Count': n(teams, '7'), 'Call Count': n(teams, '1'), 'Meeting Count': n(teams, '2'),
        'Post Messages': n(teams, '1'), 'Reply Messages': '0', 'Urgent Messages': '0', 'Meetings Organized Count': '0', 'Meetings Attended Count': n(teams, '2'),
        'Ad Hoc Meetings Organized Count': '0', 'Ad Hoc Meetings Attended Count': '0', 'Scheduled One-time Meetings Organized Count': '0',
        'Scheduled One-time Meetings Attended Count': n(teams, '2'), 'Scheduled Recurring Meetings Organized Count': '0', 'Scheduled Recurring Meetings Attended Count': '0',
        'Audio Duration': teams ? 'PT10M' : 'PT0S', 'Video Duration': video ? 'PT1M' : 'PT0S', 'Screen Share Duration': 'PT0S',
        'Audio Duration In Seconds': n(teams, '600'), 'Video Duration In Seconds': n(video, '60'), 'Screen Share Duration In Seconds': '0', 'Has Other Action': 'No',
      };
    }
    default:
      throw new Error(`no facts for ${report}`);
  }
}

let templates: Promise<Record<string, { head: string[]; row: string[] }>> | undefined;
/** One simulator row per report (read once per test process). */
function reportTemplates(): Promise<Record<string, { head: string[]; row: string[] }>> {
  templates ??= simulatedReports(1, SCORE_REPORTS).then(({ csv }) => Object.fromEntries(Object.entries(csv).map(([name, text]) => {
    const [head, row] = parse(text.slice(1)) as string[][];
    return [name, { head: head!, row: row! }];
  })));
  return templates;
}

/** The eight reports (CSV bytes with BOM, as Graph sends them) of the tenant's people. */
export async function tenantReports(tenant: RandomTenant): Promise<Record<string, Buffer>> {
  const people = peopleOf(tenant);
  const out: Record<string, Buffer> = {};
  for (const [name, { head, row }] of Object.entries(await reportTemplates())) {
    const rows = people.map(({ upn, person: p }, i) => {
      const set = cellsFor(name, p);
      return head.map((h, j) => {
        if (h === 'User Principal Name') return upn;
        if (h === 'User Id') return `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
        if (h === 'Display Name') return `Person ${i}`;
        if (set[h] !== undefined) return set[h];
        return row[j]!;
      });
    });
    for (const h of Object.keys(cellsFor(name, { idle: false, mail: true, files: true, mobile: true, video: true }))) if (!head.includes(h)) throw new Error(`${name} has no column ${h}`);
    out[name] = Buffer.from(`\uFEFF${[head, ...rows].map((r) => r.map(quoteCsvField).join(',')).join('\r\n')}\r\n`, 'utf8');
  }
  return out;
}

/** A cell's truth: distinct people counted, and those of them active (qualifying, for a score category). */
export interface Truth {
  users: number;
  active: number;
}

/**
 * The true cells of a table over the organisation, department, office and department x office, with
 * `counted`/`qualifies` choosing who is in the table and who of them is active. Keys: `organization/all`,
 * `department/<d>`, `officeLocation/<o>`, `cross/<d>|<o>` (people outside the directory: `(not in directory)`).
 */
export function truthTable(tenant: RandomTenant, counted: (p: Person) => boolean, qualifies: (p: Person) => boolean): Map<string, Truth> {
  const { departments, offices } = directoryDomain(tenant);
  const cells = new Map<string, Truth>();
  const keys = ['organization/all', ...[...departments, NOT_IN_DIRECTORY].map((d) => `department/${d}`), ...[...offices, NOT_IN_DIRECTORY].map((o) => `officeLocation/${o}`)];
  for (const d of departments) for (const o of offices) keys.push(`cross/${d}|${o}`);
  keys.push(`cross/${NOT_IN_DIRECTORY}|${NOT_IN_DIRECTORY}`);
  for (const key of keys) cells.set(key, { users: 0, active: 0 });
  for (const { person: p, department, office } of peopleOf(tenant)) {
    if (!counted(p)) continue;
    const [d, o] = [department ?? NOT_IN_DIRECTORY, office ?? NOT_IN_DIRECTORY];
    for (const key of ['organization/all', `department/${d}`, `officeLocation/${o}`, `cross/${d}|${o}`]) {
      const cell = cells.get(key)!;
      cell.users++;
      if (qualifies(p)) cell.active++;
    }
  }
  return cells;
}

/**
 * Teams activity as Microsoft defines it (graph-reports.md, "Active users": chat, calls, meetings, posts, other
 * actions): an idle person did none of it.
 */
export const teamsTruth = (tenant: RandomTenant): Map<string, Truth> => truthTable(tenant, () => true, (p) => !p.idle);

/**
 * The score categories (src/score/categories.ts documents them) for the people this generator makes: licensed
 * for Exchange, Teams, OneDrive and SharePoint, never Viva Engage; no SharePoint activity, no posts in communities.
 */
export const SCORE_TRUTH: Readonly<Record<string, { counted: (p: Person) => boolean; qualifies: (p: Person) => boolean }>> = {
  // Two of: sending e-mail, sending Teams messages, posting in communities; licensed for two of the three.
  communication: { counted: () => true, qualifies: (p) => p.mail && !p.idle },
  // In Teams meetings; of them, used video or screen sharing.
  meetings: { counted: (p) => !p.idle, qualifies: (p) => !p.idle && p.video },
  // Licensed for OneDrive or SharePoint; of them, worked with or shared files.
  contentCollaboration: { counted: () => true, qualifies: (p) => p.files },
  // Sent e-mail or Teams messages or worked with files; of them, posted in channels or worked on SharePoint.
  teamwork: { counted: (p) => p.mail || !p.idle || p.files, qualifies: (p) => !p.idle },
  // Licensed for Exchange or Teams; of them, used Teams on two kinds of device.
  mobility: { counted: () => true, qualifies: (p) => !p.idle && p.mobile },
};
