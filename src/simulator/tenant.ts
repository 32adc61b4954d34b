/**
 * A deterministic Microsoft 365 tenant: users, departments, offices, licences, groups, teams and sites, and
 * 180 days of per-user, per-service activity, all derived from a seed on demand. Nothing is stored per user,
 * so a 300,000-user tenant costs no more memory than a 250-user one; every report is computed from the same
 * per-day activity, which is why detail reports and counts reports agree.
 */
import { createHmac } from 'node:crypto';
import { Rng, deterministicGuid, hashInts, hashString } from './random.js';
import { daysBefore, utcToday } from '../catalogue/odata.js';

export const HISTORY_DAYS = 180;

export type Service = 'exchange' | 'oneDrive' | 'sharePoint' | 'teams' | 'yammer' | 'skype' | 'apps' | 'copilot';
const SERVICE_CODES: Readonly<Record<Service, number>> = {
  exchange: 1, oneDrive: 2, sharePoint: 3, teams: 4, yammer: 5, skype: 6, apps: 7, copilot: 8,
};

function layout<const T extends readonly string[]>(names: T): { readonly [K in T[number]]: number } & { size: number } {
  const out: Record<string, number> = {};
  names.forEach((n, i) => (out[n] = i));
  return Object.assign(out, { size: names.length }) as { readonly [K in T[number]]: number } & { size: number };
}

export const EMAIL_APPS = [
  'mailForMac', 'outlookForMac', 'outlookForWindows', 'outlookForMobile', 'otherForMobile', 'outlookForWeb',
  'pop3App', 'imap4App', 'smtpApp',
] as const;
export const TEAMS_PLATFORMS = ['web', 'windowsPhone', 'ios', 'mac', 'androidPhone', 'windows', 'chromeOS', 'linux'] as const;
export const YAMMER_PLATFORMS = ['web', 'windowsPhone', 'androidPhone', 'iPhone', 'iPad', 'others'] as const;
export const APP_PLATFORMS = ['windows', 'mac', 'mobile', 'web'] as const;
export const OFFICE_APPS = ['outlook', 'word', 'excel', 'powerPoint', 'oneNote', 'teams'] as const;
export const COPILOT_APPS = [
  'microsoftTeamsCopilot', 'wordCopilot', 'excelCopilot', 'powerPointCopilot', 'outlookCopilot',
  'oneNoteCopilot', 'loopCopilot', 'copilotChat',
] as const;
export const OUTLOOK_VERSIONS = [
  'Outlook 2016', 'Outlook 2013', 'Outlook 2010', 'Outlook 2007', 'Undetermined', 'Outlook M365', 'Outlook 2019',
] as const;

/** Where each metric sits in a service's per-day activity array. */
export const METRICS = {
  exchange: layout(['send', 'receive', 'read', 'meetingCreated', 'meetingInteracted', ...EMAIL_APPS] as const),
  teams: layout([
    'teamChat', 'privateChat', 'calls', 'meetings', 'post', 'reply', 'urgent', 'meetingsOrganized',
    'meetingsAttended', 'adHocOrganized', 'adHocAttended', 'oneTimeOrganized', 'oneTimeAttended',
    'recurringOrganized', 'recurringAttended', 'audioSeconds', 'videoSeconds', 'screenShareSeconds', 'otherAction',
    ...TEAMS_PLATFORMS.map((p) => `platform:${p}` as const),
  ] as const),
  oneDrive: layout(['viewedOrEdited', 'synced', 'sharedInternally', 'sharedExternally'] as const),
  sharePoint: layout(['viewedOrEdited', 'synced', 'sharedInternally', 'sharedExternally', 'visitedPage'] as const),
  yammer: layout(['posted', 'read', 'liked', ...YAMMER_PLATFORMS.map((p) => `platform:${p}` as const)] as const),
  apps: layout(APP_PLATFORMS.flatMap((p) => OFFICE_APPS.map((a) => `${a}:${p}` as const))),
  copilot: layout(COPILOT_APPS),
  skype: layout([] as const),
} as const;

export type ActivityLevel = 'inactive' | 'light' | 'regular' | 'heavy';

export interface SimulatedUser {
  readonly index: number;
  readonly id: string;
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly givenName: string;
  readonly surname: string;
  readonly department: string;
  readonly officeLocation: string;
  readonly city: string;
  readonly country: string;
  readonly companyName: string;
  readonly jobTitle: string;
  readonly products: readonly string[];
  readonly services: ReadonlySet<Service>;
  /** Day index (0 = oldest day of history, 179 = refresh date); negative means before the history starts. */
  readonly licenceAssignedDay: number;
  readonly createdDay: number;
  /** Day index of deletion, or null for a current user. */
  readonly deletedDay: number | null;
  readonly level: ActivityLevel;
  readonly teamsPlatforms: readonly number[];
  readonly yammerPlatforms: readonly number[];
  readonly emailApps: readonly number[];
  readonly outlookVersion: string;
  readonly officeApps: readonly number[];
  readonly appPlatforms: readonly number[];
}

interface Weighted<T> {
  readonly weight: number;
  readonly value: T;
}

const DEPARTMENTS: readonly Weighted<string>[] = [
  { weight: 30, value: 'Engineering' },
  { weight: 20, value: 'Sales' },
  { weight: 14, value: 'Operations' },
  { weight: 12, value: 'Customer Support' },
  { weight: 8, value: 'Marketing' },
  { weight: 6, value: 'Finance' },
  { weight: 5, value: 'IT' },
  { weight: 4, value: 'Human Resources' },
];
/** Departments with 1-4 people, the cohorts a privacy proxy must never expose. */
const TINY_DEPARTMENTS: readonly { name: string; size: number }[] = [
  { name: 'Legal', size: 1 },
  { name: 'Internal Audit', size: 2 },
  { name: 'Ombuds Office', size: 3 },
  { name: 'Executive Office', size: 4 },
];

interface Office {
  readonly name: string;
  readonly city: string;
  readonly country: string;
}
const OFFICES: readonly Weighted<Office>[] = [
  { weight: 35, value: { name: 'London', city: 'London', country: 'United Kingdom' } },
  { weight: 25, value: { name: 'New York', city: 'New York', country: 'United States' } },
  { weight: 15, value: { name: 'Berlin', city: 'Berlin', country: 'Germany' } },
  { weight: 15, value: { name: 'Bangalore', city: 'Bengaluru', country: 'India' } },
  { weight: 10, value: { name: 'Sydney', city: 'Sydney', country: 'Australia' } },
];
const TINY_OFFICES: readonly { office: Office; size: number }[] = [
  { office: { name: 'Reykjavik', city: 'Reykjavik', country: 'Iceland' }, size: 2 },
  { office: { name: 'Nairobi', city: 'Nairobi', country: 'Kenya' }, size: 3 },
];

const ALL_OFFICE: readonly Service[] = ['exchange', 'oneDrive', 'sharePoint', 'teams', 'yammer', 'skype', 'apps'];
const LICENCES: readonly Weighted<{ products: string[]; services: readonly Service[] }>[] = [
  { weight: 33, value: { products: ['OFFICE 365 E3'], services: ALL_OFFICE } },
  { weight: 22, value: { products: ['MICROSOFT 365 E5'], services: ALL_OFFICE } },
  { weight: 10, value: { products: ['MICROSOFT 365 E3', 'ENTERPRISE MOBILITY + SECURITY E5'], services: ALL_OFFICE } },
  { weight: 12, value: { products: ['MICROSOFT 365 F3'], services: ['exchange', 'oneDrive', 'sharePoint', 'teams', 'yammer'] } },
  { weight: 8, value: { products: ['MICROSOFT 365 BUSINESS PREMIUM'], services: ALL_OFFICE } },
  { weight: 4, value: { products: ['EXCHANGE ONLINE (PLAN 1)'], services: ['exchange'] } },
  { weight: 3, value: { products: ['MICROSOFT TEAMS EXPLORATORY'], services: ['teams'] } },
  { weight: 5, value: { products: ['OFFICE 365 E5', 'MICROSOFT 365 COPILOT'], services: [...ALL_OFFICE, 'copilot'] } },
  { weight: 1, value: { products: [], services: [] } },
];
const ADD_ONS: readonly { product: string; p: number }[] = [
  { product: 'POWER BI (FREE)', p: 0.15 },
  { product: 'MICROSOFT POWER AUTOMATE FREE', p: 0.08 },
  { product: 'MICROSOFT POWER APPS PLAN 2 TRIAL', p: 0.01 },
];

const LEVELS: readonly Weighted<ActivityLevel>[] = [
  { weight: 10, value: 'inactive' },
  { weight: 28, value: 'light' },
  { weight: 52, value: 'regular' },
  { weight: 10, value: 'heavy' },
];
const LEVEL_ACTIVITY: Readonly<Record<ActivityLevel, { p: number; scale: number }>> = {
  inactive: { p: 0, scale: 0 },
  light: { p: 0.18, scale: 0.5 },
  regular: { p: 0.65, scale: 1 },
  heavy: { p: 0.95, scale: 3 },
};

const GIVEN_NAMES = [
  'Adele', 'Alex', 'Allan', 'Amara', 'Anna', 'Ben', 'Chen', 'Christie', 'Debra', 'Diego', 'Emily', 'Enrico',
  'Fatima', 'Grady', 'Hana', 'Henrietta', 'Isaiah', 'Joni', 'Johanna', 'Kwame', 'Lee', 'Lidia', 'Lynne', 'Megan',
  'Miriam', 'Nestor', 'Noor', 'Patti', 'Pradeep', 'Raul', 'Sakura', 'Sven', 'Tomasz', 'Yuki', 'Zainab', 'Olga',
];
const SURNAMES = [
  'Adams', 'Alvarez', 'Bauer', 'Brown', 'Chen', 'Dubois', 'Eriksson', 'Fernandez', 'Garcia', 'Haddad', 'Ivanova',
  'Johansson', 'Kim', 'Kowalski', 'Larsen', 'Mensah', 'Moreau', 'Nakamura', 'Novak', 'Okafor', 'Patel', 'Quinn',
  'Rossi', 'Schmidt', 'Singh', 'Tanaka', 'Usman', 'Vargas', 'Wilber', 'Xu', 'Yilmaz', 'Zhang',
];
const JOB_TITLES = ['Engineer', 'Analyst', 'Manager', 'Specialist', 'Associate', 'Director', 'Consultant', 'Coordinator'];
const GROUP_WORDS = [
  'Falcon', 'Harbour', 'Atlas', 'Northwind', 'Meridian', 'Quartz', 'Beacon', 'Cascade', 'Summit', 'Orbit',
  'Pioneer', 'Lantern', 'Compass', 'Juniper', 'Keystone', 'Mosaic',
];

export interface TenantOptions {
  /** Seed for everything random. */
  seed?: number | string;
  /** Number of users (default 250). */
  users?: number;
  /** The report refresh date, YYYY-MM-DD (default: two days before today, UTC, as Graph lags). */
  refreshDate?: string;
  /** Make every identifier a known, unique canary string (see `canaryMarker`). */
  canary?: boolean;
}

export interface SimulatedGroup {
  readonly index: number;
  readonly id: string;
  readonly displayName: string;
  readonly mailNickname: string;
  readonly type: 'Public' | 'Private';
  readonly ownerIndex: number;
  readonly memberCount: number;
  readonly externalMemberCount: number;
  readonly hasTeam: boolean;
  readonly deleted: boolean;
  /** Probability of activity on a working day. */
  readonly liveliness: number;
}

export interface SimulatedSite {
  readonly index: number;
  readonly id: string;
  readonly url: string;
  /** The group behind a team site, or null for a communication site. */
  readonly group: SimulatedGroup | null;
  readonly ownerIndex: number;
  readonly ownerDisplayName: string;
  readonly rootWebTemplate: string;
  readonly deleted: boolean;
  readonly liveliness: number;
}

const DAY_MS = 86_400_000;


export class SimulatedTenant {
  readonly seed: number;
  readonly size: number;
  readonly refreshDate: string;
  readonly canary: boolean;
  readonly tenantId: string;
  readonly displayName: string;
  readonly domain: string;
  /** In canary mode, a string that every identifier of this tenant contains (case-insensitively). */
  readonly canaryMarker: string | null;
  readonly groupCount: number;
  readonly teamCount: number;
  readonly siteCount: number;
  private readonly reserved: ReadonlyMap<number, { department?: string; office?: Office }>;
  private readonly concealSalt: Buffer;
  private readonly firstDayMs: number;

  constructor(options: TenantOptions = {}) {
    const seed = options.seed ?? 1;
    this.seed = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
    this.size = options.users ?? 250;
    if (!Number.isInteger(this.size) || this.size < 1 || this.size > 5_000_000) {
      throw new RangeError('users must be a whole number from 1 to 5,000,000');
    }
    this.refreshDate = options.refreshDate ?? daysBefore(utcToday(), 2);
    this.firstDayMs = Date.parse(`${this.refreshDate}T00:00:00Z`) - (HISTORY_DAYS - 1) * DAY_MS;
    if (Number.isNaN(this.firstDayMs)) throw new RangeError('refreshDate must be YYYY-MM-DD');
    this.canary = options.canary === true;
    const token = hashInts(this.seed, 0xca9a).toString(16).padStart(8, '0');
    this.canaryMarker = this.canary ? `canary${token}` : null;
    this.tenantId = deterministicGuid(this.seed, 0x7e4a);
    this.displayName = this.canary ? `CANARY${token.toUpperCase()} CORP` : 'CONTOSO';
    this.domain = this.canary ? `canary${token}.example` : 'contoso.onmicrosoft.com';
    this.concealSalt = Buffer.from(`${this.tenantId}:conceal`);
    this.groupCount = Math.max(3, Math.floor(this.size / 10));
    this.teamCount = Math.floor(this.groupCount / 10) * 7 + Math.min(this.groupCount % 10, 7);
    this.siteCount = this.groupCount + Math.max(1, Math.floor(this.size / 50));
    this.reserved = this.reserveSmallCohorts();
  }

  /** Places the tiny departments and offices at fixed, spread-out user indices. */
  private reserveSmallCohorts(): Map<number, { department?: string; office?: Office }> {
    const slots: { department?: string; office?: Office }[] = [
      ...TINY_DEPARTMENTS.flatMap((d) => Array.from({ length: d.size }, () => ({ department: d.name }))),
      ...TINY_OFFICES.flatMap((o) => Array.from({ length: o.size }, () => ({ office: o.office }))),
    ];
    const reserved = new Map<number, { department?: string; office?: Office }>();
    if (this.size < slots.length * 2) return reserved; // too small a tenant for cohorts to mean anything
    slots.forEach((slot, j) => reserved.set(Math.floor(((j + 0.5) * this.size) / slots.length), slot));
    return reserved;
  }

  /** The date (YYYY-MM-DD) of a day index. */
  dateOf(day: number): string {
    return new Date(this.firstDayMs + day * DAY_MS).toISOString().slice(0, 10);
  }

  /** The day index of a date, or undefined when it is outside the history. */
  dayOf(date: string): number | undefined {
    const day = Math.round((Date.parse(`${date}T00:00:00Z`) - this.firstDayMs) / DAY_MS);
    return Number.isInteger(day) && day >= 0 && day < HISTORY_DAYS ? day : undefined;
  }

  private isWeekend(day: number): boolean {
    const weekday = new Date(this.firstDayMs + day * DAY_MS).getUTCDay();
    return weekday === 0 || weekday === 6;
  }

  /** Graph's concealed form of an identifier: 32 uppercase hex characters, stable per tenant. */
  conceal(namespace: string, value: string): string {
    return createHmac('md5', this.concealSalt).update(`${namespace}:${value}`).digest('hex').toUpperCase();
  }

  user(index: number): SimulatedUser {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError('no such user');
    const rng = new Rng(hashInts(this.seed, index, 0x05e7));
    const given = rng.pick(GIVEN_NAMES);
    const surname = rng.pick(SURNAMES);
    const reserved = this.reserved.get(index);
    const department = reserved?.department ?? rng.weighted(DEPARTMENTS);
    const office = reserved?.office ?? rng.weighted(OFFICES);
    const licence = rng.weighted(LICENCES);
    const products = licence.products.length === 0 ? [] : [...licence.products];
    for (const addOn of ADD_ONS) if (rng.chance(addOn.p)) products.push(addOn.product);
    const level = rng.weighted(LEVELS);
    // Most accounts predate the history; some joined during it, and ~3% were deleted during it.
    const createdDay = rng.chance(0.08) ? rng.int(HISTORY_DAYS - 7) : -1 - rng.int(2000);
    const licenceAssignedDay = createdDay + rng.int(3);
    const deletedDay = rng.chance(0.03) ? Math.min(HISTORY_DAYS - 1, Math.max(createdDay + 1, rng.int(HISTORY_DAYS))) : null;
    const teamsPlatforms = pickSome(rng, TEAMS_PLATFORMS.length, [0.3, 0.02, 0.25, 0.12, 0.25, 0.8, 0.03, 0.03]);
    const yammerPlatforms = pickSome(rng, YAMMER_PLATFORMS.length, [0.7, 0.01, 0.2, 0.25, 0.05, 0.02]);
    const emailApps = pickSome(rng, EMAIL_APPS.length, [0.05, 0.1, 0.75, 0.45, 0.05, 0.4, 0.01, 0.01, 0.02]);
    const officeApps = pickSome(rng, OFFICE_APPS.length, [0.85, 0.7, 0.6, 0.4, 0.2, 0.8]);
    const appPlatforms = pickSome(rng, APP_PLATFORMS.length, [0.8, 0.15, 0.45, 0.5]);
    const ordinal = this.canary ? `${this.canaryMarker}.u${index}` : `${given}.${surname}${index}`.toLowerCase();
    return {
      index,
      id: deterministicGuid(this.seed, index, 0x1d),
      userPrincipalName: `${ordinal}@${this.domain}`,
      displayName: this.canary ? `Canary${this.canaryMarker!.slice(6)} User ${index}` : `${given} ${surname}`,
      givenName: this.canary ? `Canary${this.canaryMarker!.slice(6)}` : given,
      surname: this.canary ? `User${index}` : surname,
      department,
      officeLocation: office.name,
      city: office.city,
      country: office.country,
      companyName: rng.chance(0.9) ? 'Contoso Ltd' : 'Fabrikam GmbH',
      jobTitle: rng.pick(JOB_TITLES),
      products,
      services: new Set(licence.services),
      licenceAssignedDay,
      createdDay,
      deletedDay,
      level,
      teamsPlatforms,
      yammerPlatforms,
      emailApps,
      outlookVersion: rng.pick(OUTLOOK_VERSIONS),
      officeApps,
      appPlatforms,
    };
  }

  /** Whether the user can use a service on a day (licensed, created, not yet deleted). */
  enabledOn(user: SimulatedUser, service: Service, day: number): boolean {
    return (
      user.services.has(service) &&
      day >= user.licenceAssignedDay &&
      day >= user.createdDay &&
      (user.deletedDay === null || day < user.deletedDay)
    );
  }

  /**
   * The user's activity in one service on one day, laid out as `METRICS[service]`; null when inactive.
   * A pure function of (seed, user, day, service).
   */
  dayActivity(user: SimulatedUser, day: number, service: Service): number[] | null {
    if (service === 'skype' || !this.enabledOn(user, service, day)) return null;
    const { p, scale } = LEVEL_ACTIVITY[user.level];
    if (p === 0) return null;
    const rng = new Rng(hashInts(this.seed, user.index, day, SERVICE_CODES[service]));
    const affinity = 0.35 + 0.65 * ((hashInts(this.seed, user.index, SERVICE_CODES[service], 0xaff) % 1000) / 1000);
    const chance = p * affinity * (this.isWeekend(day) ? 0.12 : 1);
    if (!rng.chance(chance)) return null;
    const m = new Array<number>(METRICS[service].size).fill(0);
    const c = (mean: number) => rng.count(mean * scale);
    switch (service) {
      case 'exchange': {
        const e = METRICS.exchange;
        m[e.send] = c(6);
        m[e.receive] = 1 + c(25);
        m[e.read] = c(18);
        m[e.meetingCreated] = rng.chance(0.15) ? 1 + c(0.5) : 0;
        m[e.meetingInteracted] = rng.chance(0.4) ? 1 + c(1.5) : 0;
        for (const app of user.emailApps) m[e[EMAIL_APPS[app]!]] = 1;
        break;
      }
      case 'teams': {
        const t = METRICS.teams;
        m[t.teamChat] = c(4);
        m[t.privateChat] = c(12);
        m[t.calls] = rng.chance(0.3) ? 1 + c(1) : 0;
        m[t.post] = rng.chance(0.2) ? 1 + c(1) : 0;
        m[t.reply] = rng.chance(0.3) ? 1 + c(2) : 0;
        m[t.urgent] = rng.chance(0.02) ? 1 : 0;
        const adHocOrganized = rng.chance(0.1) ? 1 : 0;
        const oneTimeOrganized = rng.chance(0.12) ? 1 : 0;
        const recurringOrganized = rng.chance(0.15) ? 1 : 0;
        const unclassifiedOrganized = rng.chance(0.03) ? 1 : 0; // Graph counts these in the total only
        m[t.adHocOrganized] = adHocOrganized;
        m[t.oneTimeOrganized] = oneTimeOrganized;
        m[t.recurringOrganized] = recurringOrganized;
        m[t.meetingsOrganized] = adHocOrganized + oneTimeOrganized + recurringOrganized + unclassifiedOrganized;
        m[t.adHocAttended] = adHocOrganized + (rng.chance(0.2) ? 1 : 0);
        m[t.oneTimeAttended] = oneTimeOrganized + c(0.6);
        m[t.recurringAttended] = recurringOrganized + c(1.2);
        m[t.meetingsAttended] = m[t.adHocAttended]! + m[t.oneTimeAttended]! + m[t.recurringAttended]! + unclassifiedOrganized;
        m[t.meetings] = m[t.meetingsAttended]!;
        const meetingMinutes = m[t.meetings]! * (15 + rng.int(45));
        m[t.audioSeconds] = meetingMinutes * 60 + m[t.calls]! * rng.int(600);
        m[t.videoSeconds] = rng.chance(0.5) ? Math.floor(m[t.audioSeconds]! * rng.next()) : 0;
        m[t.screenShareSeconds] = rng.chance(0.35) ? Math.floor(m[t.audioSeconds]! * 0.4 * rng.next()) : 0;
        m[t.otherAction] = rng.chance(0.25) ? 1 : 0;
        const platforms = user.teamsPlatforms.length > 0 ? user.teamsPlatforms : [5];
        const used = platforms.filter(() => rng.chance(0.7));
        for (const platform of used.length > 0 ? used : [platforms[0]!]) m[t.size - TEAMS_PLATFORMS.length + platform] = 1;
        break;
      }
      case 'oneDrive':
      case 'sharePoint': {
        const f = METRICS[service];
        m[f.viewedOrEdited] = 1 + c(5);
        m[f.synced] = rng.chance(0.3) ? c(8) : 0;
        m[f.sharedInternally] = rng.chance(0.2) ? 1 + c(1) : 0;
        m[f.sharedExternally] = rng.chance(0.04) ? 1 : 0;
        if (service === 'sharePoint') m[METRICS.sharePoint.visitedPage] = c(6);
        break;
      }
      case 'yammer': {
        const y = METRICS.yammer;
        m[y.posted] = rng.chance(0.2) ? 1 + c(0.5) : 0;
        m[y.read] = 1 + c(4);
        m[y.liked] = rng.chance(0.3) ? 1 + c(1) : 0;
        const platforms = user.yammerPlatforms.length > 0 ? user.yammerPlatforms : [0];
        for (const platform of platforms) if (rng.chance(0.8)) m[y.size - YAMMER_PLATFORMS.length + platform] = 1;
        break;
      }
      case 'apps': {
        const platforms = user.appPlatforms.length > 0 ? user.appPlatforms : [3];
        const apps = user.officeApps.length > 0 ? user.officeApps : [0];
        for (const platform of platforms) {
          for (const app of apps) if (rng.chance(0.6)) m[platform * OFFICE_APPS.length + app] = 1;
        }
        break;
      }
      case 'copilot':
        for (let app = 0; app < COPILOT_APPS.length; app++) if (rng.chance(0.3)) m[app] = 1;
        break;
    }
    return m;
  }

  /** The last day at or before `day` on which the user was active in the service, if any. */
  lastActiveDay(user: SimulatedUser, service: Service, day: number): number | null {
    if (!user.services.has(service) || user.level === 'inactive') return null;
    for (let d = day; d >= 0; d--) if (this.dayActivity(user, d, service) !== null) return d;
    return null;
  }

  // --- Groups, teams and sites --------------------------------------------------------------------------

  group(index: number): SimulatedGroup {
    if (!Number.isInteger(index) || index < 0 || index >= this.groupCount) throw new RangeError('no such group');
    const rng = new Rng(hashInts(this.seed, index, 0x6a0));
    const word = GROUP_WORDS[index % GROUP_WORDS.length]!;
    const name = this.canary
      ? `${this.canaryMarker} Group ${index}`
      : `${rng.chance(0.5) ? 'Project' : 'Team'} ${word} ${Math.floor(index / GROUP_WORDS.length) + 1}`;
    // One group in five has 1-4 members: small groups are where a row points at a person.
    const memberCount = index % 5 === 2 ? 1 + rng.int(4) : Math.min(this.size, 5 + rng.count(25));
    return {
      index,
      id: deterministicGuid(this.seed, index, 0x6a1),
      displayName: name,
      mailNickname: name.replace(/[^A-Za-z0-9]/g, ''),
      type: rng.chance(0.6) ? 'Public' : 'Private',
      ownerIndex: hashInts(this.seed, index, 0x6a2) % this.size,
      memberCount,
      externalMemberCount: rng.chance(0.2) ? rng.int(Math.max(1, Math.floor(memberCount / 4)) + 1) : 0,
      hasTeam: index % 10 < 7,
      deleted: index % 31 === 17,
      liveliness: 0.1 + 0.85 * rng.next(),
    };
  }

  /** The group behind the n-th team (teams are the groups with `hasTeam`). */
  team(index: number): SimulatedGroup {
    if (!Number.isInteger(index) || index < 0 || index >= this.teamCount) throw new RangeError('no such team');
    return this.group(Math.floor(index / 7) * 10 + (index % 7));
  }

  site(index: number): SimulatedSite {
    if (!Number.isInteger(index) || index < 0 || index >= this.siteCount) throw new RangeError('no such site');
    const group = index < this.groupCount ? this.group(index) : null;
    const rng = new Rng(hashInts(this.seed, index, 0x5e7));
    const slug = group !== null ? group.mailNickname : `${this.canary ? this.canaryMarker : 'Comms'}Site${index}`;
    const ownerIndex = group?.ownerIndex ?? hashInts(this.seed, index, 0x5e8) % this.size;
    return {
      index,
      id: deterministicGuid(this.seed, index, 0x5e9),
      url: `https://${this.domain.split('.')[0]}.sharepoint.com/sites/${slug}`,
      group,
      ownerIndex,
      ownerDisplayName: group !== null ? `${group.displayName} Owners` : this.user(ownerIndex).displayName,
      rootWebTemplate: group !== null ? 'Group' : 'Communication Site',
      deleted: group?.deleted ?? false,
      liveliness: group?.liveliness ?? 0.2 + 0.6 * rng.next(),
    };
  }

  /** A user's OneDrive URL (one personal site per OneDrive-licensed user). */
  oneDriveUrl(user: SimulatedUser): string {
    const name = user.userPrincipalName.replace(/[^A-Za-z0-9]/g, '_');
    return `https://${this.domain.split('.')[0]}-my.sharepoint.com/personal/${name}`;
  }

  /** Whether a group/site had activity on a day; the same roll drives its per-day counts. */
  entityDayRng(kind: 'group' | 'site' | 'team', index: number, day: number, liveliness: number): Rng | null {
    const rng = new Rng(hashInts(this.seed, index, day, kind === 'group' ? 0xe1 : kind === 'site' ? 0xe2 : 0xe3));
    return rng.chance(liveliness * (this.isWeekend(day) ? 0.15 : 1)) ? rng : null;
  }
}

/** Independent draws: index i is chosen with probability probabilities[i]. */
function pickSome(rng: Rng, n: number, probabilities: readonly number[]): number[] {
  const chosen: number[] = [];
  for (let i = 0; i < n; i++) if (rng.chance(probabilities[i] ?? 0)) chosen.push(i);
  return chosen;
}
