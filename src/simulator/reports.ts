/**
 * Report rows of the simulated tenant: for a catalogue report and a window of days, the items Graph would
 * return, keyed by JSON property name, with random access by index so that CSV downloads stream and JSON
 * pages start anywhere without materialising the report. Detail and counts reports are both sums over the
 * same per-day activity (`SimulatedTenant.dayActivity`), so they agree.
 */
import type { ReportSpec } from '../catalogue/catalogue.js';
import type { CellValue, ReportItem, ReportRow } from '../catalogue/values.js';
import { periodDays, type ReportCall } from '../catalogue/odata.js';
import { InternalInvariantError } from '../errors/catalogue.js';
import { hashInts } from './random.js';
import {
  APP_PLATFORMS, COPILOT_APPS, EMAIL_APPS, HISTORY_DAYS, METRICS, OFFICE_APPS, OUTLOOK_VERSIONS, TEAMS_PLATFORMS,
  YAMMER_PLATFORMS, type Service, type SimulatedTenant, type SimulatedUser,
} from './tenant.js';

export interface ReportWindow {
  /** First and last day index (inclusive) of the activity covered. */
  readonly firstDay: number;
  readonly lastDay: number;
  /** The value of the Report Period column, in days. */
  readonly periodDays: number;
}

export interface ReportSource {
  /** Number of top-level items (JSON `value` entries). */
  readonly count: number;
  item(index: number): ReportItem;
}

interface WindowActivity {
  readonly sum: number[];
  readonly activeDays: number;
}

/** Sums a user's per-day activity in one service over a window. */
function windowActivity(tenant: SimulatedTenant, user: SimulatedUser, service: Service, w: ReportWindow): WindowActivity {
  const sum = new Array<number>(METRICS[service].size).fill(0);
  let activeDays = 0;
  for (let d = w.firstDay; d <= w.lastDay; d++) {
    const a = tenant.dayActivity(user, d, service);
    if (a === null) continue;
    activeDays++;
    for (let i = 0; i < a.length; i++) sum[i]! += a[i]!;
  }
  return { sum, activeDays };
}

const orNull = (day: number | null, tenant: SimulatedTenant): string | null => (day === null ? null : tenant.dateOf(day));

/**
 * The columns most per-user reports share. Builders extend the result with Object.assign: measured here, an
 * object spread followed by ~30 more properties cost ~95 us per row in V8, Object.assign ~4 us.
 */
function userBasics(tenant: SimulatedTenant, user: SimulatedUser, w: ReportWindow, lastActivityService: Service): ReportRow {
  return {
    reportRefreshDate: tenant.refreshDate,
    userPrincipalName: user.userPrincipalName,
    displayName: user.displayName,
    userId: user.id,
    ...deletion(tenant, user, w),
    lastActivityDate: orNull(tenant.lastActiveDay(user, lastActivityService, w.lastDay), tenant),
    assignedProducts: user.products,
    reportPeriod: w.periodDays,
  };
}

/** Whether, and when, the user was deleted as of the window's last day. */
function deletion(tenant: SimulatedTenant, user: SimulatedUser, w: ReportWindow): { isDeleted: boolean; deletedDate: string | null } {
  const deleted = user.deletedDay !== null && user.deletedDay <= w.lastDay;
  return { isDeleted: deleted, deletedDate: deleted ? tenant.dateOf(user.deletedDay!) : null };
}

const flags = (sum: readonly number[], offset: number, names: readonly string[], prefix: (n: string) => string): ReportRow =>
  Object.fromEntries(names.map((n, i) => [prefix(n), sum[offset + i]! > 0]));

const capitalised = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** The services Graph's active-user reports cover, with the name their columns use. */
const REPORTED_SERVICES: readonly (readonly [string, Service])[] = [
  ['exchange', 'exchange'], ['oneDrive', 'oneDrive'], ['sharePoint', 'sharePoint'],
  ['skypeForBusiness', 'skype'], ['yammer', 'yammer'], ['teams', 'teams'],
];

/** The Teams device counts columns, in Graph's order, and where each platform sits in the Teams activity. */
const TEAMS_DEVICE_COLUMNS = ['web', 'windowsPhone', 'androidPhone', 'ios', 'mac', 'windows', 'chromeOS', 'linux'] as const;
const TEAMS_DEVICE_METRICS = TEAMS_DEVICE_COLUMNS.map(
  (p) => METRICS.teams.size - TEAMS_PLATFORMS.length + TEAMS_PLATFORMS.indexOf(p),
);

/** The Yammer device counts columns (JSON names) and where each platform sits in the Yammer activity. */
const YAMMER_DEVICE_COLUMNS = ['web', 'windowsPhone', 'androidPhone', 'iPhone', 'iPad', 'other'] as const;
const YAMMER_DEVICE_METRICS = YAMMER_PLATFORMS.map((p) => METRICS.yammer[`platform:${p}`]);

type UserItemBuilder = (tenant: SimulatedTenant, user: SimulatedUser, w: ReportWindow) => ReportItem;

const USER_DETAIL: Readonly<Record<string, UserItemBuilder>> = {
  getEmailActivityUserDetail(tenant, user, w) {
    const { sum } = windowActivity(tenant, user, 'exchange', w);
    const e = METRICS.exchange;
    return Object.assign(userBasics(tenant, user, w, 'exchange'), {
      sendCount: sum[e.send]!, receiveCount: sum[e.receive]!, readCount: sum[e.read]!,
      meetingCreatedCount: sum[e.meetingCreated]!, meetingInteractedCount: sum[e.meetingInteracted]!,
    });
  },
  getEmailAppUsageUserDetail(tenant, user, w) {
    const { sum } = windowActivity(tenant, user, 'exchange', w);
    const item: ReportItem = userBasics(tenant, user, w, 'exchange');
    EMAIL_APPS.forEach((app, i) => {
      const used = sum[METRICS.exchange.size - EMAIL_APPS.length + i]! > 0;
      item[app] = !used ? [] : app === 'outlookForWindows' ? [user.outlookVersion] : ['Undetermined'];
    });
    return item;
  },
  getMailboxUsageDetail(tenant, user, w) {
    const storage = mailboxStorage(tenant, user, w.lastDay);
    return Object.assign(userBasics(tenant, user, w, 'exchange'), {
      createdDate: tenant.dateOf(Math.max(user.createdDay, -3000)),
      itemCount: Math.floor(storage / 75_000),
      storageUsedInBytes: storage,
      issueWarningQuotaInBytes: 105_226_698_752,
      prohibitSendQuotaInBytes: 106_300_440_576,
      prohibitSendReceiveQuotaInBytes: 107_374_182_400,
      deletedItemCount: Math.floor(storage / 2_000_000),
      deletedItemSizeInBytes: Math.floor(storage / 40),
      deletedItemQuota: 32_212_254_720,
      hasArchive: user.index % 9 === 0,
    });
  },
  getOffice365ActiveUserDetail(tenant, user, w) {
    const item: ReportItem = {
      reportRefreshDate: tenant.refreshDate, userPrincipalName: user.userPrincipalName,
      displayName: user.displayName, ...deletion(tenant, user, w), assignedProducts: user.products,
    };
    for (const [name, service] of REPORTED_SERVICES) {
      const licensed = user.services.has(service);
      item[`has${capitalised(name)}License`] = licensed;
      item[`${name}LastActivityDate`] = orNull(tenant.lastActiveDay(user, service, w.lastDay), tenant);
      item[`${name}LicenseAssignDate`] = licensed ? tenant.dateOf(Math.max(user.licenceAssignedDay, -3000)) : null;
    }
    return item;
  },
  getTeamsUserActivityUserDetail(tenant, user, w) {
    const { sum } = windowActivity(tenant, user, 'teams', w);
    const t = METRICS.teams;
    return Object.assign(userBasics(tenant, user, w, 'teams'), {
      tenantDisplayName: tenant.displayName,
      // Some users take part in a partner tenant's shared channels.
      sharedChannelTenantDisplayNames: user.index % 13 === 4 ? `${tenant.canaryMarker?.toUpperCase() ?? 'FABRIKAM'} PARTNER` : null,
      teamChatMessageCount: sum[t.teamChat]!, privateChatMessageCount: sum[t.privateChat]!,
      callCount: sum[t.calls]!, meetingCount: sum[t.meetings]!, postMessages: sum[t.post]!,
      replyMessages: sum[t.reply]!, urgentMessages: sum[t.urgent]!,
      meetingsOrganizedCount: sum[t.meetingsOrganized]!, meetingsAttendedCount: sum[t.meetingsAttended]!,
      adHocMeetingsOrganizedCount: sum[t.adHocOrganized]!, adHocMeetingsAttendedCount: sum[t.adHocAttended]!,
      scheduledOneTimeMeetingsOrganizedCount: sum[t.oneTimeOrganized]!,
      scheduledOneTimeMeetingsAttendedCount: sum[t.oneTimeAttended]!,
      scheduledRecurringMeetingsOrganizedCount: sum[t.recurringOrganized]!,
      scheduledRecurringMeetingsAttendedCount: sum[t.recurringAttended]!,
      audioDuration: sum[t.audioSeconds]!, videoDuration: sum[t.videoSeconds]!,
      screenShareDuration: sum[t.screenShareSeconds]!,
      audioDurationInSeconds: sum[t.audioSeconds]!, videoDurationInSeconds: sum[t.videoSeconds]!,
      screenShareDurationInSeconds: sum[t.screenShareSeconds]!,
      hasOtherAction: sum[t.otherAction]! > 0,
      isLicensed: user.services.has('teams'),
    });
  },
  getTeamsDeviceUsageUserDetail(tenant, user, w) {
    const { sum } = windowActivity(tenant, user, 'teams', w);
    const offset = METRICS.teams.size - TEAMS_PLATFORMS.length;
    const name = (p: string) => (p === 'ios' ? 'usediOS' : `used${capitalised(p)}`);
    return Object.assign(userBasics(tenant, user, w, 'teams'), flags(sum, offset, TEAMS_PLATFORMS, name), {
      isLicensed: user.services.has('teams'),
    });
  },
  getOneDriveActivityUserDetail: (tenant, user, w) => fileActivity(tenant, user, w, 'oneDrive'),
  getSharePointActivityUserDetail: (tenant, user, w) => fileActivity(tenant, user, w, 'sharePoint'),
  getOneDriveUsageAccountDetail(tenant, user, w) {
    const { sum } = windowActivity(tenant, user, 'oneDrive', w);
    const files = oneDriveFiles(tenant, user, w.lastDay);
    const base = userBasics(tenant, user, w, 'oneDrive');
    return {
      reportRefreshDate: tenant.refreshDate,
      siteUrl: tenant.oneDriveUrl(user),
      ownerDisplayName: user.displayName,
      isDeleted: base.isDeleted!,
      lastActivityDate: base.lastActivityDate!,
      fileCount: files,
      activeFileCount: Math.min(files, sum[METRICS.oneDrive.viewedOrEdited]!),
      storageUsedInBytes: files * 850_000,
      storageAllocatedInBytes: 1_099_511_627_776,
      ownerPrincipalName: user.userPrincipalName,
      reportPeriod: w.periodDays,
    };
  },
  getM365AppUserDetail(tenant, user, w) {
    const { sum } = windowActivity(tenant, user, 'apps', w);
    const detail: ReportRow = { reportPeriod: w.periodDays };
    const used = (platform: number, app: number) => sum[platform * OFFICE_APPS.length + app]! > 0;
    APP_PLATFORMS.forEach((p, pi) => (detail[p] = OFFICE_APPS.some((_, ai) => used(pi, ai))));
    OFFICE_APPS.forEach((a, ai) => (detail[a] = APP_PLATFORMS.some((_, pi) => used(pi, ai))));
    APP_PLATFORMS.forEach((p, pi) =>
      OFFICE_APPS.forEach((a, ai) => (detail[`${a}${capitalised(p)}`] = used(pi, ai))),
    );
    return {
      reportRefreshDate: tenant.refreshDate,
      userPrincipalName: user.userPrincipalName,
      lastActivationDate: user.services.has('apps') ? tenant.dateOf(Math.max(user.licenceAssignedDay + 1, 0)) : null,
      lastActivityDate: orNull(tenant.lastActiveDay(user, 'apps', w.lastDay), tenant),
      details: [detail],
    };
  },
  getOffice365ActivationsUserDetail(tenant, user) {
    const activations: ReportRow[] = [];
    if (user.services.has('apps')) {
      activations.push({
        productType: 'MICROSOFT 365 APPS FOR ENTERPRISE',
        lastActivatedDate: tenant.dateOf(Math.max(user.licenceAssignedDay + 1, 0)),
        windows: user.appPlatforms.includes(0) ? 1 + (user.index % 3) : 0,
        mac: user.appPlatforms.includes(1) ? 1 : 0,
        windows10Mobile: 0,
        ios: user.appPlatforms.includes(2) ? 1 : 0,
        android: user.appPlatforms.includes(2) && user.index % 2 === 0 ? 1 : 0,
        activatedOnSharedComputer: user.index % 47 === 5,
      });
    }
    return {
      reportRefreshDate: tenant.refreshDate,
      userPrincipalName: user.userPrincipalName,
      displayName: user.displayName,
      userActivationCounts: activations,
    };
  },
  getYammerActivityUserDetail(tenant, user, w) {
    const { sum } = windowActivity(tenant, user, 'yammer', w);
    const y = METRICS.yammer;
    return Object.assign(yammerBasics(tenant, user, w), { postedCount: sum[y.posted]!, readCount: sum[y.read]!, likedCount: sum[y.liked]!, assignedProducts: user.products });
  },
  getYammerDeviceUsageUserDetail(tenant, user, w) {
    const { sum } = windowActivity(tenant, user, 'yammer', w);
    const offset = METRICS.yammer.size - YAMMER_PLATFORMS.length;
    const name = (p: string) => (p === 'iPhone' || p === 'iPad' ? `used${p[0]}${p.slice(1)}` : `used${capitalised(p)}`);
    return Object.assign(yammerBasics(tenant, user, w), flags(sum, offset, YAMMER_PLATFORMS, name));
  },
  getMicrosoft365CopilotUsageUserDetail(tenant, user, w) {
    const item: ReportItem = {
      reportRefreshDate: tenant.refreshDate,
      userPrincipalName: user.userPrincipalName,
      displayName: user.displayName,
      lastActivityDate: orNull(tenant.lastActiveDay(user, 'copilot', w.lastDay), tenant),
      copilotActivityUserDetailsByPeriod: [{ reportPeriod: w.periodDays }],
    };
    const last = new Array<number | null>(COPILOT_APPS.length).fill(null);
    for (let d = w.lastDay; d >= w.firstDay && last.includes(null); d--) {
      const a = tenant.dayActivity(user, d, 'copilot');
      if (a !== null) a.forEach((v, i) => (last[i] = last[i] ?? (v > 0 ? d : null)));
    }
    COPILOT_APPS.forEach((app, i) => (item[`${app}LastActivityDate`] = orNull(last[i]!, tenant)));
    return item;
  },
};

function fileActivity(tenant: SimulatedTenant, user: SimulatedUser, w: ReportWindow, service: 'oneDrive' | 'sharePoint'): ReportItem {
  const { sum } = windowActivity(tenant, user, service, w);
  const f = METRICS.sharePoint;
  const base = userBasics(tenant, user, w, service);
  const item: ReportItem = {
    reportRefreshDate: base.reportRefreshDate!, userPrincipalName: base.userPrincipalName!,
    isDeleted: base.isDeleted!, deletedDate: base.deletedDate!, lastActivityDate: base.lastActivityDate!,
    viewedOrEditedFileCount: sum[f.viewedOrEdited]!, syncedFileCount: sum[f.synced]!,
    sharedInternallyFileCount: sum[f.sharedInternally]!, sharedExternallyFileCount: sum[f.sharedExternally]!,
    assignedProducts: user.products, reportPeriod: w.periodDays,
  };
  if (service === 'sharePoint') item.visitedPageCount = sum[f.visitedPage]!;
  return item;
}

function yammerBasics(tenant: SimulatedTenant, user: SimulatedUser, w: ReportWindow): ReportRow {
  const base = userBasics(tenant, user, w, 'yammer');
  const deleted = base.isDeleted === true;
  return {
    reportRefreshDate: tenant.refreshDate,
    userPrincipalName: user.userPrincipalName,
    displayName: user.displayName,
    userState: deleted ? 'deleted' : 'active',
    stateChangeDate: deleted ? base.deletedDate! : tenant.dateOf(Math.max(user.licenceAssignedDay, 0)),
    lastActivityDate: base.lastActivityDate!,
    reportPeriod: w.periodDays,
  };
}

/** Mailbox size grows slowly and deterministically with the user's history. */
function mailboxStorage(tenant: SimulatedTenant, user: SimulatedUser, day: number): number {
  const age = day - user.createdDay;
  return 5_000_000 + (hashInts(tenant.seed, user.index, 0x3a11) % 900_000_000) + age * 1_200_000;
}
function oneDriveFiles(_tenant: SimulatedTenant, user: SimulatedUser, day: number): number {
  return user.services.has('oneDrive') ? 10 + (user.index % 400) + Math.max(0, day - user.createdDay) : 0;
}

// --- Team, group and site reports -----------------------------------------------------------------------

function entitySource(tenant: SimulatedTenant, spec: ReportSpec, w: ReportWindow): ReportSource {
  const days = w.lastDay - w.firstDay + 1;
  const activity = (kind: 'group' | 'site' | 'team', index: number, liveliness: number) => {
    let activeDays = 0;
    let last: number | null = null;
    const totals = [0, 0, 0, 0, 0, 0, 0];
    for (let d = w.firstDay; d <= w.lastDay; d++) {
      const rng = tenant.entityDayRng(kind, index, d, liveliness);
      if (rng === null) continue;
      activeDays++;
      last = d;
      for (let i = 0; i < totals.length; i++) totals[i]! += rng.count(3);
    }
    return { activeDays, last, totals };
  };
  switch (spec.name) {
    case 'getTeamsTeamActivityDetail':
      return {
        count: tenant.teamCount,
        item(i) {
          const team = tenant.team(i);
          const a = activity('team', i, team.liveliness);
          const activeUsers = Math.min(team.memberCount, Math.round((team.memberCount * a.activeDays) / days));
          return {
            reportRefreshDate: tenant.refreshDate, teamName: team.displayName, teamId: team.id,
            teamType: team.type, lastActivityDate: orNull(a.last, tenant),
            details: [{
              reportPeriod: w.periodDays, activeUsers, activeChannels: Math.min(a.activeDays, 1 + (i % 6)),
              guests: team.externalMemberCount, reactions: a.totals[0]!, meetingsOrganized: a.totals[1]!,
              postMessages: a.totals[2]!, replyMessages: a.totals[3]!, channelMessages: a.totals[2]! + a.totals[3]!,
              urgentMessages: 0, mentions: a.totals[4]!, activeSharedChannels: 0, activeExternalUsers: 0,
            }],
          };
        },
      };
    case 'getOffice365GroupsActivityDetail':
      return {
        count: tenant.groupCount,
        item(i) {
          const g = tenant.group(i);
          const a = activity('group', i, g.liveliness);
          return {
            reportRefreshDate: tenant.refreshDate, groupDisplayName: g.displayName, isDeleted: g.deleted,
            ownerPrincipalName: tenant.user(g.ownerIndex).userPrincipalName, lastActivityDate: orNull(a.last, tenant),
            groupType: g.type, memberCount: g.memberCount, externalMemberCount: g.externalMemberCount,
            exchangeReceivedEmailCount: a.totals[0]!, sharePointActiveFileCount: a.totals[1]!,
            yammerPostedMessageCount: a.totals[2]!, yammerReadMessageCount: a.totals[3]!,
            yammerLikedMessageCount: a.totals[4]!, exchangeMailboxTotalItemCount: 5 + i * 7,
            exchangeMailboxStorageUsedInBytes: 200_000 + i * 9_973, sharePointTotalFileCount: i * 3,
            sharePointSiteStorageUsedInBytes: 1_400_000 + i * 77_777, groupId: g.id, reportPeriod: w.periodDays,
            teamsChannelMessagesCount: g.hasTeam ? a.totals[5]! : 0, teamsMeetingsOrganizedCount: g.hasTeam ? a.totals[6]! : 0,
          };
        },
      };
    default: // getSharePointSiteUsageDetail
      return {
        count: tenant.siteCount,
        item(i) {
          const s = tenant.site(i);
          const a = activity('site', i, s.liveliness);
          const files = 2 + i * 5;
          return {
            reportRefreshDate: tenant.refreshDate, siteId: s.id, siteUrl: s.url, ownerDisplayName: s.ownerDisplayName,
            isDeleted: s.deleted, lastActivityDate: orNull(a.last, tenant), fileCount: files,
            activeFileCount: Math.min(files, a.totals[0]!), pageViewCount: a.totals[1]!, visitedPageCount: a.totals[2]!,
            storageUsedInBytes: 1_475_974 + i * 104_729, storageAllocatedInBytes: 27_487_790_694_400,
            rootWebTemplate: s.rootWebTemplate,
            ownerPrincipalName: s.group !== null ? `${s.group.mailNickname}@${tenant.domain}` : tenant.user(s.ownerIndex).userPrincipalName,
            reportPeriod: w.periodDays,
          };
        },
      };
  }
}

// --- Counts reports ---------------------------------------------------------------------------------------

/** Per-day tenant totals of one service: metric sums and how many users had each metric above zero. */
interface DayTotals {
  readonly sum: number[];
  readonly users: number[];
  readonly activeUsers: number;
  readonly enabledUsers: number;
}

const dayTotalsCache = new WeakMap<SimulatedTenant, Map<string, DayTotals>>();

export function dayTotals(tenant: SimulatedTenant, service: Service, day: number): DayTotals {
  let cache = dayTotalsCache.get(tenant);
  if (cache === undefined) dayTotalsCache.set(tenant, (cache = new Map()));
  const key = `${service}:${day}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const size = METRICS[service].size;
  const totals: DayTotals = { sum: new Array(size).fill(0), users: new Array(size).fill(0), activeUsers: 0, enabledUsers: 0 };
  const t = totals as { activeUsers: number; enabledUsers: number } & DayTotals;
  for (let u = 0; u < tenant.size; u++) {
    const user = tenant.user(u);
    if (tenant.enabledOn(user, service, day)) t.enabledUsers++;
    const a = tenant.dayActivity(user, day, service);
    if (a === null) continue;
    t.activeUsers++;
    for (let i = 0; i < size; i++) {
      totals.sum[i]! += a[i]!;
      if (a[i]! > 0) totals.users[i]!++;
    }
  }
  cache.set(key, totals);
  return totals;
}

/**
 * In one pass over the users: per reported service, the users active at least once in the window and those
 * enabled on its last day, and the users active in any service.
 */
function activeUsersByService(tenant: SimulatedTenant, w: ReportWindow): { active: Record<string, number>; enabled: Record<string, number>; anyActive: number } {
  const active: Record<string, number> = {};
  const enabled: Record<string, number> = {};
  for (const [name] of REPORTED_SERVICES) active[name] = enabled[name] = 0;
  let anyActive = 0;
  for (let u = 0; u < tenant.size; u++) {
    const user = tenant.user(u);
    let any = false;
    for (const [name, service] of REPORTED_SERVICES) {
      if (tenant.enabledOn(user, service, w.lastDay)) enabled[name]!++;
      for (let d = w.firstDay; d <= w.lastDay; d++) {
        if (tenant.dayActivity(user, d, service) !== null) {
          active[name]!++;
          any = true;
          break;
        }
      }
    }
    if (any) anyActive++;
  }
  return { active, enabled, anyActive };
}

/** Per-period distinct-user counts: for each metric, the users with a non-zero window sum. */
function periodUsers(tenant: SimulatedTenant, service: Service, w: ReportWindow): { users: number[] } {
  const users = new Array<number>(METRICS[service].size).fill(0);
  for (let u = 0; u < tenant.size; u++) {
    windowActivity(tenant, tenant.user(u), service, w).sum.forEach((v, i) => v > 0 && users[i]!++);
  }
  return { users };
}

type DailyRow = (day: number) => ReportRow;

/** Counts cells are empty (null) when there is no data, as in Graph's CSV. */
const cell = (n: number): CellValue => (n === 0 ? null : n);
const pick = (values: readonly number[], layoutIndices: readonly number[], names: readonly string[]): ReportRow =>
  Object.fromEntries(names.map((n, i) => [n, cell(values[layoutIndices[i]!]!)]));

function dailyRows(tenant: SimulatedTenant, spec: ReportSpec): DailyRow | undefined {
  const E = METRICS.exchange;
  const T = METRICS.teams;
  const F = METRICS.sharePoint;
  const emailMetrics = [E.send, E.receive, E.read, E.meetingCreated, E.meetingInteracted];
  const emailNames = ['send', 'receive', 'read', 'meetingCreated', 'meetingInteracted'];
  const fileNames = ['viewedOrEdited', 'synced', 'sharedInternally', 'sharedExternally'];
  const fileMetrics = [F.viewedOrEdited, F.synced, F.sharedInternally, F.sharedExternally];
  const Y = METRICS.yammer;
  const yammerMetrics = [Y.liked, Y.posted, Y.read];
  const yammerNames = ['liked', 'posted', 'read'];
  switch (spec.name) {
    case 'getEmailActivityCounts':
      return (d) => pick(dayTotals(tenant, 'exchange', d).sum, emailMetrics, emailNames);
    case 'getEmailActivityUserCounts':
      return (d) => pick(dayTotals(tenant, 'exchange', d).users, emailMetrics, emailNames);
    case 'getEmailAppUsageUserCounts':
      return (d) => pick(dayTotals(tenant, 'exchange', d).users, EMAIL_APPS.map((a) => E[a]), [...EMAIL_APPS]);
    case 'getMailboxUsageMailboxCounts':
      return (d) => ({ total: dayTotals(tenant, 'exchange', d).enabledUsers, active: cell(dayTotals(tenant, 'exchange', d).activeUsers) });
    case 'getOffice365ActiveUserCounts':
      return (d) => {
        const counts = activeUsersByService(tenant, { firstDay: d, lastDay: d, periodDays: 1 });
        return { office365: cell(counts.anyActive), ...Object.fromEntries(REPORTED_SERVICES.map(([name]) => [name, cell(counts.active[name]!)])) };
      };
    case 'getTeamsUserActivityCounts':
      return (d) => {
        const s = dayTotals(tenant, 'teams', d).sum;
        return {
          ...pick(s, [T.teamChat, T.post, T.reply, T.privateChat, T.calls, T.meetings, T.meetingsOrganized, T.meetingsAttended],
            ['teamChatMessages', 'postMessages', 'replyMessages', 'privateChatMessages', 'calls', 'meetings', 'meetingsOrganizedCount', 'meetingsAttendedCount']),
          audioDuration: s[T.audioSeconds]!, videoDuration: s[T.videoSeconds]!, screenShareDuration: s[T.screenShareSeconds]!,
        };
      };
    case 'getTeamsUserActivityUserCounts':
      return (d) => pick(dayTotals(tenant, 'teams', d).users, [T.teamChat, T.privateChat, T.calls, T.meetings, T.otherAction],
        ['teamChatMessages', 'privateChatMessages', 'calls', 'meetings', 'otherActions']);
    case 'getTeamsDeviceUsageUserCounts':
      return (d) => pick(dayTotals(tenant, 'teams', d).users, TEAMS_DEVICE_METRICS, TEAMS_DEVICE_COLUMNS);
    case 'getOneDriveActivityUserCounts':
      return (d) => pick(dayTotals(tenant, 'oneDrive', d).users, fileMetrics, fileNames);
    case 'getOneDriveActivityFileCounts':
      return (d) => pick(dayTotals(tenant, 'oneDrive', d).sum, fileMetrics, fileNames);
    case 'getSharePointActivityUserCounts':
      return (d) => pick(dayTotals(tenant, 'sharePoint', d).users, [F.visitedPage, ...fileMetrics], ['visitedPage', ...fileNames]);
    case 'getSharePointActivityFileCounts':
      return (d) => pick(dayTotals(tenant, 'sharePoint', d).sum, fileMetrics, fileNames);
    case 'getYammerActivityCounts':
      return (d) => pick(dayTotals(tenant, 'yammer', d).sum, yammerMetrics, yammerNames);
    case 'getYammerActivityUserCounts':
      return (d) => pick(dayTotals(tenant, 'yammer', d).users, yammerMetrics, yammerNames);
    case 'getYammerDeviceUsageUserCounts':
      return (d) => pick(dayTotals(tenant, 'yammer', d).users, YAMMER_DEVICE_METRICS, YAMMER_DEVICE_COLUMNS);
    case 'getSharePointActivityPages':
      return (d) => ({ visitedPageCount: cell(dayTotals(tenant, 'sharePoint', d).sum[F.visitedPage]!) });
    case 'getOneDriveUsageAccountCounts':
      return (d) => ({ siteType: 'OneDrive', total: dayTotals(tenant, 'oneDrive', d).enabledUsers, active: cell(dayTotals(tenant, 'oneDrive', d).activeUsers) });
    case 'getOneDriveUsageFileCounts':
      return (d) => ({ siteType: 'OneDrive', total: sumUsers(tenant, (u) => oneDriveFiles(tenant, u, d)), active: cell(dayTotals(tenant, 'oneDrive', d).sum[F.viewedOrEdited]!) });
    case 'getOneDriveUsageStorage':
      return (d) => ({ siteType: 'OneDrive', storageUsedInBytes: sumUsers(tenant, (u) => oneDriveFiles(tenant, u, d) * 850_000) });
    case 'getMailboxUsageStorage':
      return (d) => ({ storageUsedInBytes: sumUsers(tenant, (u) => (tenant.enabledOn(u, 'exchange', d) ? mailboxStorage(tenant, u, d) : 0)) });
    case 'getMailboxUsageQuotaStatusMailboxCounts':
      return (d) => ({ underLimit: dayTotals(tenant, 'exchange', d).enabledUsers, warningIssued: null, sendProhibited: null, sendReceiveProhibited: null, indeterminate: null });
    default:
      return entityDailyRows(tenant, spec);
  }
}

function sumUsers(tenant: SimulatedTenant, f: (u: SimulatedUser) => number): number {
  let total = 0;
  for (let u = 0; u < tenant.size; u++) total += f(tenant.user(u));
  return total;
}

/** Daily counts of groups and sites: active entities and their activity that day. */
function entityDailyRows(tenant: SimulatedTenant, spec: ReportSpec): DailyRow | undefined {
  const groups = (d: number) => {
    let active = 0;
    const totals = [0, 0, 0, 0, 0];
    for (let g = 0; g < tenant.groupCount; g++) {
      const rng = tenant.entityDayRng('group', g, d, tenant.group(g).liveliness);
      if (rng === null) continue;
      active++;
      for (let i = 0; i < totals.length; i++) totals[i]! += rng.count(3);
    }
    return { active, totals };
  };
  const sites = (d: number) => {
    let active = 0;
    let pages = 0;
    for (let s = 0; s < tenant.siteCount; s++) {
      const rng = tenant.entityDayRng('site', s, d, tenant.site(s).liveliness);
      if (rng !== null) {
        active++;
        rng.count(3);
        pages += rng.count(3);
      }
    }
    return { active, pages };
  };
  switch (spec.name) {
    case 'getOffice365GroupsActivityCounts':
      return (d) => {
        const t = groups(d).totals;
        return { exchangeEmailsReceived: cell(t[0]!), yammerMessagesPosted: cell(t[2]!), yammerMessagesRead: cell(t[3]!), yammerMessagesLiked: cell(t[4]!) };
      };
    case 'getOffice365GroupsActivityGroupCounts':
      return (d) => ({ total: tenant.groupCount, active: cell(groups(d).active) });
    case 'getOffice365GroupsActivityFileCounts':
      return (d) => ({ total: tenant.groupCount * 40, active: cell(groups(d).totals[1]!) });
    case 'getOffice365GroupsActivityStorage':
      return () => ({ mailboxStorageUsedInBytes: tenant.groupCount * 2_000_000, siteStorageUsedInBytes: tenant.groupCount * 9_000_000 });
    case 'getSharePointSiteUsageSiteCounts':
      return (d) => ({ siteType: 'All', total: tenant.siteCount, active: cell(sites(d).active) });
    case 'getSharePointSiteUsageFileCounts':
      return (d) => ({ siteType: 'All', total: tenant.siteCount * 40, active: cell(sites(d).active * 3) });
    case 'getSharePointSiteUsagePages':
      return (d) => ({ siteType: 'All', pageViewCount: cell(sites(d).pages) });
    case 'getSharePointSiteUsageStorage':
      return () => ({ siteType: 'All', storageUsedInBytes: tenant.siteCount * 1_500_000 });
    default:
      return undefined;
  }
}

/** Counts reports with one row for the whole period (distinct users over the window) or per product type. */
function periodRows(tenant: SimulatedTenant, spec: ReportSpec, w: ReportWindow): ReportRow[] | undefined {
  const E = METRICS.exchange;
  switch (spec.name) {
    case 'getEmailAppUsageAppsUserCounts': {
      const { users } = periodUsers(tenant, 'exchange', w);
      return [pick(users, EMAIL_APPS.map((a) => E[a]), [...EMAIL_APPS])];
    }
    case 'getYammerDeviceUsageDistributionUserCounts':
      return [pick(periodUsers(tenant, 'yammer', w).users, YAMMER_DEVICE_METRICS, YAMMER_DEVICE_COLUMNS)];
    case 'getTeamsDeviceUsageDistributionUserCounts': {
      return [pick(periodUsers(tenant, 'teams', w).users, TEAMS_DEVICE_METRICS, TEAMS_DEVICE_COLUMNS)];
    }
    case 'getEmailAppUsageVersionsUserCounts': {
      const byVersion = new Map<string, number>();
      for (let u = 0; u < tenant.size; u++) {
        const user = tenant.user(u);
        if (windowActivity(tenant, user, 'exchange', w).sum[E.outlookForWindows]! > 0) {
          byVersion.set(user.outlookVersion, (byVersion.get(user.outlookVersion) ?? 0) + 1);
        }
      }
      const json = (v: string) => (v === 'Undetermined' ? 'undetermined' : `outlook${v.slice(8).replace(' ', '')}`);
      return [Object.fromEntries(OUTLOOK_VERSIONS.map((v) => [json(v), cell(byVersion.get(v) ?? 0)]))];
    }
    case 'getOffice365ServicesUserCounts': {
      const counts = activeUsersByService(tenant, w);
      const row: ReportRow = {};
      for (const [name] of REPORTED_SERVICES) {
        row[`${name}Active`] = cell(counts.active[name]!);
        row[`${name}Inactive`] = cell(Math.max(0, counts.enabled[name]! - counts.active[name]!));
      }
      row.office365Active = cell(counts.anyActive);
      row.office365Inactive = cell(tenant.size - counts.anyActive);
      return [row];
    }
    case 'getOffice365ActivationCounts':
    case 'getOffice365ActivationsUserCounts': {
      const t = { windows: 0, mac: 0, android: 0, ios: 0, windows10Mobile: 0, assigned: 0, activated: 0, shared: 0 };
      for (let u = 0; u < tenant.size; u++) {
        const item = USER_DETAIL.getOffice365ActivationsUserDetail!(tenant, tenant.user(u), w);
        for (const a of item.userActivationCounts as ReportRow[]) {
          t.assigned++;
          for (const k of ['windows', 'mac', 'android', 'ios', 'windows10Mobile'] as const) t[k] += a[k] as number;
          if ((a.windows as number) + (a.mac as number) + (a.ios as number) + (a.android as number) > 0) t.activated++;
          if (a.activatedOnSharedComputer === true) t.shared++;
        }
      }
      const productType = 'MICROSOFT 365 APPS FOR ENTERPRISE';
      return spec.name === 'getOffice365ActivationCounts'
        ? [{ productType, windows: t.windows, mac: t.mac, android: t.android, ios: t.ios, windows10Mobile: t.windows10Mobile }]
        : [{ productType, assigned: t.assigned, activated: t.activated, sharedComputerActivation: t.shared }];
    }
    default:
      return undefined;
  }
}

/** The rows of any catalogue report for a window. */
export function reportSource(tenant: SimulatedTenant, spec: ReportSpec, w: ReportWindow): ReportSource {
  if (spec.shape === 'userDetail') {
    const build = USER_DETAIL[spec.name];
    if (build === undefined) throw new InternalInvariantError(`no simulator for ${spec.name}`);
    return { count: tenant.size, item: (i) => build(tenant, tenant.user(i), w) };
  }
  if (spec.shape === 'entityDetail') return entitySource(tenant, spec, w);
  const meta = { reportRefreshDate: tenant.refreshDate, reportPeriod: w.periodDays };
  const daily = dailyRows(tenant, spec);
  if (daily !== undefined) {
    const days = w.lastDay - w.firstDay + 1;
    // Newest day first, as Graph lists them.
    return { count: days, item: (i) => ({ ...meta, ...daily(w.lastDay - i), reportDate: tenant.dateOf(w.lastDay - i) }) };
  }
  const rows = periodRows(tenant, spec, w);
  if (rows === undefined) throw new InternalInvariantError(`no simulator for ${spec.name}`);
  return { count: rows.length, item: (i) => ({ ...meta, ...rows[i]! }) };
}

export const LAST_DAY = HISTORY_DAYS - 1;

/**
 * The days a report call covers in the tenant's data: one day for `date=`, the last `period` days otherwise
 * (180 for reports without parameters); a message when the date is outside the tenant's history. Graph's own
 * window (the past 28 days) is checked by `checkServed` before this.
 */
export function reportWindow(tenant: SimulatedTenant, call: ReportCall): ReportWindow | string {
  if (call.date !== undefined) {
    const day = tenant.dayOf(call.date);
    if (day === undefined) return `No data for date=${call.date}: the tenant's reports were last refreshed on ${tenant.refreshDate}.`;
    return { firstDay: day, lastDay: day, periodDays: 1 };
  }
  const days = call.period !== undefined ? periodDays(call.period) : 180;
  return { firstDay: LAST_DAY - days + 1, lastDay: LAST_DAY, periodDays: days };
}
