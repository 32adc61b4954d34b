/**
 * The report catalogue: the one source of truth for Microsoft Graph usage reports (names, API versions,
 * parameters, CSV headers in order, JSON property names, page sizes) and for each column's privacy role.
 *
 * Policies, the sanitiser, the cohort engine and the simulator all reason about columns through this file;
 * no other module spells a Graph column name. Facts come from ../shared/graph-reports.md; where Graph's
 * documentation does not give a JSON property name, it is derived from the CSV header by `jsonNameOf` and the
 * report is marked `jsonNamesDocumented: false`.
 */

/** What a column says about a person, which is what policies and the sanitiser reason about. */
export type ColumnRole =
  /** Names a person, group, team or site directly (UPN, display name, ids, URLs, owner, tenant name). */
  | 'identifier'
  /** Not a name, but can single a person out in combination (dates, licences, deleted flags, quotas). */
  | 'quasi'
  /** A measured quantity (counts, durations, bytes, per-app usage flags). */
  | 'metric'
  /** A category that rows can be grouped by and that names no one (report date, site type, product type). */
  | 'dimension'
  /** Describes the report itself and is the same on every row (refresh date, report period). */
  | 'meta';

/** How a value is written in CSV and JSON. */
export type ValueKind =
  | 'date' // YYYY-MM-DD; empty cell / JSON null when absent
  | 'text'
  | 'guid'
  | 'int' // empty cell / JSON null when there is no data
  | 'bool' // CSV True/False or Yes/No (see ColumnSpec.boolStyle); JSON true/false
  | 'duration' // ISO-8601 duration, e.g. PT1H2M3S
  | 'products' // CSV: '+'-joined; JSON: string array. Product names may themselves contain ' + '.
  | 'versions' // CSV: '+'-joined version strings, empty when unused; JSON: string array
  | 'period'; // CSV "7"; JSON "7" at top level, 7 (an integer) inside a nested array

export type ApiVersion = 'v1.0' | 'beta';
export const API_VERSIONS: readonly ApiVersion[] = ['v1.0', 'beta'];

/** A report's output format: Graph's CSV download (`$format=text/csv`) or JSON pages (`$format=application/json`). */
export type ReportFormat = 'csv' | 'json';

/**
 * How far back Graph serves a single day (`date=`): the past 28 days, today included. Graph answers an older
 * date with 400 InvalidArgument "Only support data for the past 28 days" (../shared/cases/real-graph/README.md).
 */
export const DATE_WINDOW_DAYS = 28;

export type Period = 'D7' | 'D30' | 'D90' | 'D180' | 'ALL';
export const STANDARD_PERIODS: readonly Period[] = ['D7', 'D30', 'D90', 'D180'];

/** How a concealed tenant ("display concealed names" on) replaces an identifier column. */
export type Concealment =
  | { readonly as: 'hex'; readonly namespace: 'upn' | 'displayName' | 'siteUrl' | 'groupName' | 'teamName' }
  | { readonly as: 'zeroGuid' };

export interface ColumnSpec {
  /** The CSV header, exactly as Graph writes it (one real header has a double space). */
  readonly header: string;
  /** The JSON property name. */
  readonly json: string;
  readonly role: ColumnRole;
  readonly kind: ValueKind;
  readonly boolStyle?: 'TrueFalse' | 'YesNo';
  /** In JSON the column lives inside the report's nested array (`details[]` and the like). */
  readonly nested?: boolean;
  /** Present in only one of the two formats (Graph's JSON omits some CSV columns and adds others). */
  readonly only?: 'csv' | 'json';
  /** Set on identifier columns that Graph conceals when the tenant's concealed-names setting is on. */
  readonly conceal?: Concealment;
}

export type ReportShape =
  /** One row per user (or per user and product type). */
  | 'userDetail'
  /** One row per team, group or site. */
  | 'entityDetail'
  /** Tenant-wide counts: one row per day, per category, or one row for the period. */
  | 'counts';

export type ParameterForm = 'periodOrDate' | 'period' | 'none';

export interface ReportSpec {
  readonly name: string;
  /** The API versions Graph serves the report in (the activation reports are beta-only). */
  readonly versions: readonly ApiVersion[];
  /**
   * The formats Graph serves per version. JSON is a beta feature of the usage reports: v1.0 answers
   * `$format=application/json` with 400 "JSON format is not supported.", except for the reports whose v1.0
   * documentation has JSON (getM365AppUserDetail, the Copilot report).
   */
  readonly formats: Readonly<Record<ApiVersion, readonly ReportFormat[]>>;
  /** Path prefix per version, below the version segment ('/reports' except Copilot in v1.0). */
  readonly root: Readonly<Record<ApiVersion, string>>;
  readonly parameters: ParameterForm;
  readonly periods: readonly Period[];
  readonly shape: ReportShape;
  /** What one row (one JSON item) is about. */
  readonly entity: 'user' | 'team' | 'group' | 'site' | 'tenant';
  /** Columns in the CSV order Graph documents; JSON-only columns at the end. */
  readonly columns: readonly ColumnSpec[];
  /** The OData type of a JSON item, for `@odata.context`. */
  readonly jsonType: string;
  /** Default JSON page size. Counts reports are not paged. */
  readonly pageSize: number;
  /** The nested JSON array that holds the `nested` columns (one CSV row per element). */
  readonly nestedProperty?: string;
  /** Whether Graph documents the JSON property names (false: derived from the headers). */
  readonly jsonNamesDocumented: boolean;
  /** The format a request without `$format` gets. */
  readonly defaultFormat: 'csv' | 'json';
  /**
   * Team/group/site reports: the JSON name of the column that counts the people behind a row (active users,
   * members). Rows with fewer than k are withheld. An entity report without one cannot be released per row.
   */
  readonly peopleColumn?: string;
  /**
   * Per-user reports: the JSON names of the columns whose value above zero (or `Yes`) makes a person an active
   * user of the product, as Microsoft defines it (graph-reports.md, "Active users"). Passive events (mail
   * received, durations alone) are not among them. Absent: Microsoft defines no activity for the report, and a
   * person counts as active when any of its usage metrics is above zero (or, for reports with only
   * last-activity dates, when any date is set).
   */
  readonly activity?: readonly string[];
}

// ---------------------------------------------------------------------------------------------------------
// Column DSL: most JSON names follow from the header by one rule; exceptions are spelled out where used.

const SPECIAL_WORDS: Readonly<Record<string, string>> = { '(Byte)': 'InBytes' };

/**
 * Graph's JSON name for a CSV header: camelCase over words, '(Byte)' becomes 'InBytes', punctuation and
 * parentheses vanish, a leading all-capitals word is lower-cased whole ('POP3 App' -> 'pop3App').
 */
export function jsonNameOf(header: string): string {
  const words = header
    .split(/\s+/)
    .filter((w) => w.length > 0)
    .flatMap((w) => (SPECIAL_WORDS[w] !== undefined ? [SPECIAL_WORDS[w]] : w.split(/[^A-Za-z0-9]+/)))
    .filter((w) => w.length > 0);
  return words
    .map((w, i) => {
      if (i > 0) return w[0]!.toUpperCase() + w.slice(1);
      return /^[A-Z0-9]+$/.test(w) ? w.toLowerCase() : w[0]!.toLowerCase() + w.slice(1);
    })
    .join('');
}

type ColumnOptions = Partial<Omit<ColumnSpec, 'header' | 'role' | 'kind'>>;

function col(header: string, role: ColumnRole, kind: ValueKind, options: ColumnOptions = {}): ColumnSpec {
  return { header, json: options.json ?? jsonNameOf(header), role, kind, ...options };
}
const metric = (header: string, options: ColumnOptions = {}) => col(header, 'metric', 'int', options);
const metrics = (...headers: string[]) => headers.map((h) => metric(h));
const yesNo = (header: string, options: ColumnOptions = {}) =>
  col(header, 'metric', 'bool', { boolStyle: 'YesNo', ...options });
const quasiDate = (header: string, options: ColumnOptions = {}) => col(header, 'quasi', 'date', options);
const quasiFlag = (header: string, options: ColumnOptions = {}) =>
  col(header, 'quasi', 'bool', { boolStyle: 'TrueFalse', ...options });

const REFRESH_DATE = col('Report Refresh Date', 'meta', 'date');
const REPORT_PERIOD = col('Report Period', 'meta', 'period');
const NESTED_PERIOD = col('Report Period', 'meta', 'period', { nested: true });
const REPORT_DATE = col('Report Date', 'dimension', 'date');
const UPN = col('User Principal Name', 'identifier', 'text', { conceal: { as: 'hex', namespace: 'upn' } });
const DISPLAY_NAME = col('Display Name', 'identifier', 'text', { conceal: { as: 'hex', namespace: 'displayName' } });
const USER_ID = col('User Id', 'identifier', 'guid', { conceal: { as: 'zeroGuid' } });
const IS_DELETED = quasiFlag('Is Deleted');
const DELETED_DATE = quasiDate('Deleted Date');
const LAST_ACTIVITY = quasiDate('Last Activity Date');
const ASSIGNED_PRODUCTS = col('Assigned Products', 'quasi', 'products');
const IS_LICENSED = col('Is Licensed', 'quasi', 'bool', { boolStyle: 'YesNo' });
const OWNER_UPN = col('Owner Principal Name', 'identifier', 'text', { conceal: { as: 'hex', namespace: 'upn' } });
const OWNER_DISPLAY_NAME = col('Owner Display Name', 'identifier', 'text', {
  conceal: { as: 'hex', namespace: 'displayName' },
});
const SITE_URL = col('Site URL', 'identifier', 'text', { json: 'siteUrl', conceal: { as: 'hex', namespace: 'siteUrl' } });
const SITE_TYPE = col('Site Type', 'dimension', 'text');
const PRODUCT_TYPE = col('Product Type', 'dimension', 'text');
const STORAGE_USED = metric('Storage Used (Byte)');

// ---------------------------------------------------------------------------------------------------------
// Report definitions.

interface ReportDraft {
  name: string;
  shape: ReportShape;
  entity: ReportSpec['entity'];
  parameters: ParameterForm;
  columns: ColumnSpec[];
  jsonType: string;
  pageSize?: number;
  nestedProperty?: string;
  jsonNamesDocumented?: boolean;
  versions?: ApiVersion[];
  root?: Partial<Record<ApiVersion, string>>;
  periods?: Period[];
  defaultFormat?: 'csv' | 'json';
  /** Formats in v1.0 (default CSV only); beta always has both. */
  v1Formats?: ReportFormat[];
  peopleColumn?: string;
  activity?: string[];
}

function report(d: ReportDraft): ReportSpec {
  return {
    name: d.name,
    versions: d.versions ?? ['v1.0', 'beta'],
    formats: { 'v1.0': d.v1Formats ?? ['csv'], beta: ['csv', 'json'] },
    root: { 'v1.0': d.root?.['v1.0'] ?? '/reports', beta: d.root?.beta ?? '/reports' },
    parameters: d.parameters,
    periods: d.parameters === 'none' ? [] : (d.periods ?? STANDARD_PERIODS),
    shape: d.shape,
    entity: d.entity,
    columns: d.columns,
    jsonType: d.jsonType,
    pageSize: d.pageSize ?? (d.shape === 'counts' ? 0 : 200),
    ...(d.nestedProperty !== undefined ? { nestedProperty: d.nestedProperty } : {}),
    jsonNamesDocumented: d.jsonNamesDocumented ?? true,
    defaultFormat: d.defaultFormat ?? 'csv',
    ...(d.peopleColumn !== undefined ? { peopleColumn: d.peopleColumn } : {}),
    ...(d.activity !== undefined ? { activity: d.activity } : {}),
  };
}

/** A per-day counts report: `Report Date` then `Report Period` close every row. */
function dailyCounts(name: string, jsonType: string, columns: ColumnSpec[], documented = false): ReportSpec {
  return report({
    name,
    shape: 'counts',
    entity: 'tenant',
    parameters: 'period',
    columns: [REFRESH_DATE, ...columns, REPORT_DATE, REPORT_PERIOD],
    jsonType,
    jsonNamesDocumented: documented,
  });
}

const EMAIL_APPS = [
  'Mail For Mac',
  'Outlook For Mac',
  'Outlook For Windows',
  'Outlook For Mobile',
  'Other For Mobile',
  'Outlook For Web',
  'POP3 App',
  'IMAP4 App',
  'SMTP App',
];
const SITE_COUNT_COLUMNS = [SITE_TYPE, ...metrics('Total', 'Active')];
const YAMMER_DEVICE_COUNTS = [
  ...metrics('Web', 'Windows Phone', 'Android Phone'),
  metric('iPhone', { json: 'iPhone' }), metric('iPad', { json: 'iPad' }), metric('Other'),
];

const M365_APP_FLAGS = [
  'Windows', 'Mac', 'Mobile', 'Web', 'Outlook', 'Word', 'Excel', 'PowerPoint', 'OneNote', 'Teams',
  ...['Windows', 'Mac', 'Mobile', 'Web'].flatMap((platform) =>
    ['Outlook', 'Word', 'Excel', 'PowerPoint', 'OneNote', 'Teams'].map((app) => `${app} (${platform})`),
  ),
];

export const REPORTS: readonly ReportSpec[] = [
  // --- Exchange: email activity ----------------------------------------------------------------------
  report({
    name: 'getEmailActivityUserDetail',
    activity: ['sendCount', 'readCount', 'meetingCreatedCount', 'meetingInteractedCount'],
    shape: 'userDetail',
    entity: 'user',
    parameters: 'periodOrDate',
    jsonType: 'emailActivityUserDetail',
    columns: [
      REFRESH_DATE, UPN, DISPLAY_NAME, IS_DELETED, DELETED_DATE, LAST_ACTIVITY,
      ...metrics('Send Count', 'Receive Count', 'Read Count', 'Meeting Created Count', 'Meeting Interacted Count'),
      ASSIGNED_PRODUCTS, REPORT_PERIOD,
    ],
  }),
  dailyCounts(
    'getEmailActivityCounts',
    'emailActivitySummary',
    metrics('Send', 'Receive', 'Read', 'Meeting Created', 'Meeting Interacted'),
  ),
  dailyCounts(
    'getEmailActivityUserCounts',
    'emailActivitySummary',
    metrics('Send', 'Receive', 'Read', 'Meeting Created', 'Meeting Interacted'),
  ),
  report({
    name: 'getEmailAppUsageUserDetail',
    shape: 'userDetail',
    entity: 'user',
    parameters: 'periodOrDate',
    jsonType: 'emailAppUsageUserDetail',
    columns: [
      REFRESH_DATE, UPN, DISPLAY_NAME, IS_DELETED, DELETED_DATE, LAST_ACTIVITY,
      ...EMAIL_APPS.map((h) => col(h, 'metric', 'versions')),
      REPORT_PERIOD,
    ],
  }),
  report({
    name: 'getEmailAppUsageAppsUserCounts',
    shape: 'counts',
    entity: 'tenant',
    parameters: 'period',
    jsonType: 'emailAppUsageAppsUserCounts',
    columns: [REFRESH_DATE, ...metrics(...EMAIL_APPS), REPORT_PERIOD],
  }),
  dailyCounts('getEmailAppUsageUserCounts', 'emailAppUsageUserCounts', metrics(...EMAIL_APPS)),
  report({
    name: 'getEmailAppUsageVersionsUserCounts',
    shape: 'counts',
    entity: 'tenant',
    parameters: 'period',
    jsonType: 'emailAppUsageVersionsUserCounts',
    jsonNamesDocumented: false,
    // Graph's real order puts Report Period mid-row.
    columns: [
      REFRESH_DATE,
      ...metrics('Outlook 2016', 'Outlook 2013', 'Outlook 2010', 'Outlook 2007', 'Undetermined'),
      REPORT_PERIOD,
      ...metrics('Outlook M365', 'Outlook 2019'),
    ],
  }),

  // --- Exchange: mailbox usage -------------------------------------------------------------------------
  report({
    name: 'getMailboxUsageDetail',
    shape: 'userDetail',
    entity: 'user',
    parameters: 'period',
    jsonType: 'mailboxUsageDetail',
    columns: [
      REFRESH_DATE, UPN, DISPLAY_NAME, IS_DELETED, DELETED_DATE, quasiDate('Created Date'), LAST_ACTIVITY,
      metric('Item Count'), STORAGE_USED,
      col('Issue Warning Quota (Byte)', 'quasi', 'int'),
      col('Prohibit Send Quota (Byte)', 'quasi', 'int'),
      col('Prohibit Send/Receive Quota (Byte)', 'quasi', 'int'),
      metric('Deleted Item Count'), metric('Deleted Item Size (Byte)'),
      col('Deleted Item Quota (Byte)', 'quasi', 'int', { json: 'deletedItemQuota' }),
      quasiFlag('Has Archive'),
      REPORT_PERIOD,
    ],
  }),
  dailyCounts('getMailboxUsageMailboxCounts', 'mailboxUsageMailboxCounts', metrics('Total', 'Active')),
  dailyCounts(
    'getMailboxUsageQuotaStatusMailboxCounts',
    'mailboxUsageQuotaStatusMailboxCounts',
    metrics('Under Limit', 'Warning Issued', 'Send Prohibited', 'Send/Receive Prohibited', 'Indeterminate'),
  ),
  dailyCounts('getMailboxUsageStorage', 'mailboxUsageStorage', [STORAGE_USED]),

  // --- Microsoft 365 active users --------------------------------------------------------------------
  report({
    name: 'getOffice365ActiveUserDetail',
    shape: 'userDetail',
    entity: 'user',
    parameters: 'periodOrDate',
    jsonType: 'office365ActiveUserDetail',
    columns: [
      REFRESH_DATE, UPN, DISPLAY_NAME, IS_DELETED, DELETED_DATE,
      ...['Exchange', 'OneDrive', 'SharePoint', 'Skype For Business', 'Yammer', 'Teams'].map((s) =>
        quasiFlag(`Has ${s} License`),
      ),
      ...['Exchange', 'OneDrive', 'SharePoint', 'Skype For Business', 'Yammer', 'Teams'].map((s) =>
        quasiDate(`${s} Last Activity Date`),
      ),
      ...['Exchange', 'OneDrive', 'SharePoint', 'Skype For Business', 'Yammer', 'Teams'].map((s) =>
        quasiDate(`${s} License Assign Date`),
      ),
      ASSIGNED_PRODUCTS,
    ],
  }),
  dailyCounts(
    'getOffice365ActiveUserCounts',
    'office365ActiveUserCounts',
    metrics('Office 365', 'Exchange', 'OneDrive', 'SharePoint', 'Skype For Business', 'Yammer', 'Teams'),
    true,
  ),
  report({
    name: 'getOffice365ServicesUserCounts',
    shape: 'counts',
    entity: 'tenant',
    parameters: 'period',
    jsonType: 'office365ServicesUserCounts',
    columns: [
      REFRESH_DATE,
      ...['Exchange', 'OneDrive', 'SharePoint', 'Skype For Business', 'Yammer', 'Teams', 'Office 365'].flatMap(
        (s) => metrics(`${s} Active`, `${s} Inactive`),
      ),
      REPORT_PERIOD,
    ],
  }),

  // --- Teams -------------------------------------------------------------------------------------------
  report({
    name: 'getTeamsUserActivityUserDetail',
    activity: [
      'teamChatMessageCount', 'privateChatMessageCount', 'callCount', 'meetingCount', 'postMessages', 'replyMessages',
      'urgentMessages', 'meetingsOrganizedCount', 'meetingsAttendedCount', 'adHocMeetingsOrganizedCount',
      'adHocMeetingsAttendedCount', 'scheduledOneTimeMeetingsOrganizedCount', 'scheduledOneTimeMeetingsAttendedCount',
      'scheduledRecurringMeetingsOrganizedCount', 'scheduledRecurringMeetingsAttendedCount', 'hasOtherAction',
    ],
    shape: 'userDetail',
    entity: 'user',
    parameters: 'periodOrDate',
    jsonType: 'teamsUserActivityUserDetail',
    pageSize: 2000,
    columns: [
      REFRESH_DATE,
      col('Tenant Display Name', 'identifier', 'text'),
      col('Shared Channel Tenant Display Names', 'identifier', 'text'),
      USER_ID, UPN, LAST_ACTIVITY, IS_DELETED, DELETED_DATE, ASSIGNED_PRODUCTS,
      ...metrics(
        'Team Chat Message Count', 'Private Chat Message Count', 'Call Count', 'Meeting Count',
        'Post Messages', 'Reply Messages', 'Urgent Messages', 'Meetings Organized Count', 'Meetings Attended Count',
        'Ad Hoc Meetings Organized Count', 'Ad Hoc Meetings Attended Count',
        'Scheduled One-time Meetings Organized Count', 'Scheduled One-time Meetings Attended Count',
        'Scheduled Recurring Meetings Organized Count', 'Scheduled Recurring Meetings Attended Count',
      ),
      col('Audio Duration', 'metric', 'duration'),
      col('Video Duration', 'metric', 'duration'),
      col('Screen Share Duration', 'metric', 'duration'),
      metric('Audio Duration In Seconds', { only: 'csv' }),
      metric('Video Duration In Seconds', { only: 'csv' }),
      metric('Screen Share Duration In Seconds', { only: 'csv' }),
      yesNo('Has Other Action'),
      IS_LICENSED,
      REPORT_PERIOD,
    ],
  }),
  // Graph's real header (../shared/cases/real-graph/05): `Report Date` second, `... Count` on the meeting columns.
  report({
    name: 'getTeamsUserActivityCounts',
    shape: 'counts',
    entity: 'tenant',
    parameters: 'period',
    jsonType: 'teamsUserActivityCounts',
    jsonNamesDocumented: false,
    columns: [
      REFRESH_DATE, REPORT_DATE,
      ...metrics('Team Chat Messages', 'Private Chat Messages', 'Calls', 'Meetings', 'Meetings Organized Count', 'Meetings Attended Count'),
      col('Audio Duration', 'metric', 'duration'),
      col('Video Duration', 'metric', 'duration'),
      col('Screen Share Duration', 'metric', 'duration'),
      ...metrics('Post Messages', 'Reply Messages'),
      REPORT_PERIOD,
    ],
  }),
  report({
    name: 'getTeamsUserActivityUserCounts',
    shape: 'counts',
    entity: 'tenant',
    parameters: 'period',
    jsonType: 'teamsUserActivityUserCounts',
    columns: [
      REFRESH_DATE, REPORT_DATE,
      ...metrics('Team Chat Messages', 'Private Chat Messages', 'Calls', 'Meetings', 'Other Actions'),
      REPORT_PERIOD,
    ],
  }),
  report({
    name: 'getTeamsDeviceUsageUserDetail',
    shape: 'userDetail',
    entity: 'user',
    parameters: 'periodOrDate',
    jsonType: 'teamsDeviceUsageUserDetail',
    pageSize: 2000,
    columns: [
      REFRESH_DATE, USER_ID, UPN, LAST_ACTIVITY, IS_DELETED, DELETED_DATE,
      yesNo('Used Web'), yesNo('Used Windows Phone'), yesNo('Used iOS', { json: 'usediOS' }), yesNo('Used Mac'),
      yesNo('Used Android Phone'), yesNo('Used Windows'),
      yesNo('Used  Chrome OS'), // sic: Graph's real header has a double space
      yesNo('Used Linux'),
      IS_LICENSED, REPORT_PERIOD,
    ],
  }),
  report({
    name: 'getTeamsDeviceUsageDistributionUserCounts',
    shape: 'counts',
    entity: 'tenant',
    parameters: 'period',
    jsonType: 'teamsDeviceUsageDistributionUserCounts',
    jsonNamesDocumented: false,
    columns: [
      REFRESH_DATE,
      ...metrics('Web', 'Windows Phone', 'Android Phone'),
      metric('iOS', { json: 'ios' }),
      ...metrics('Mac', 'Windows', 'Chrome OS', 'Linux'),
      REPORT_PERIOD,
    ],
  }),
  dailyCounts('getTeamsDeviceUsageUserCounts', 'teamsDeviceUsageUserCounts', [
    ...metrics('Web', 'Windows Phone', 'Android Phone'),
    metric('iOS', { json: 'ios' }),
    ...metrics('Mac', 'Windows', 'Chrome OS', 'Linux'),
  ]),
  report({
    name: 'getTeamsTeamActivityDetail',
    peopleColumn: 'activeUsers',
    shape: 'entityDetail',
    entity: 'team',
    parameters: 'periodOrDate',
    jsonType: 'teamActivityDetail',
    nestedProperty: 'details',
    columns: [
      REFRESH_DATE,
      col('Team Name', 'identifier', 'text', { conceal: { as: 'hex', namespace: 'teamName' } }),
      col('Team Id', 'identifier', 'guid', { conceal: { as: 'zeroGuid' } }),
      col('Team Type', 'dimension', 'text'),
      LAST_ACTIVITY,
      NESTED_PERIOD,
      ...metrics(
        'Active Users', 'Active Channels', 'Guests', 'Reactions', 'Meetings Organized', 'Post Messages',
        'Reply Messages', 'Channel Messages', 'Urgent Messages', 'Mentions', 'Active Shared Channels',
        'Active External Users',
      ).map((c) => ({ ...c, nested: true })),
    ],
  }),

  // --- OneDrive ----------------------------------------------------------------------------------------
  report({
    name: 'getOneDriveActivityUserDetail',
    activity: ['viewedOrEditedFileCount', 'syncedFileCount', 'sharedInternallyFileCount', 'sharedExternallyFileCount'],
    shape: 'userDetail',
    entity: 'user',
    parameters: 'periodOrDate',
    jsonType: 'oneDriveActivityUserDetail',
    columns: [
      REFRESH_DATE, UPN, IS_DELETED, DELETED_DATE, LAST_ACTIVITY,
      ...metrics(
        'Viewed Or Edited File Count', 'Synced File Count', 'Shared Internally File Count',
        'Shared Externally File Count',
      ),
      ASSIGNED_PRODUCTS, REPORT_PERIOD,
    ],
  }),
  dailyCounts(
    'getOneDriveActivityUserCounts',
    'oneDriveActivityUserCounts',
    metrics('Viewed Or Edited', 'Synced', 'Shared Internally', 'Shared Externally'),
  ),
  dailyCounts(
    'getOneDriveActivityFileCounts',
    'oneDriveActivityFileCounts',
    metrics('Viewed Or Edited', 'Synced', 'Shared Internally', 'Shared Externally'),
  ),
  report({
    name: 'getOneDriveUsageAccountDetail',
    shape: 'userDetail',
    entity: 'user',
    parameters: 'periodOrDate',
    jsonType: 'oneDriveUsageAccountDetail',
    columns: [
      REFRESH_DATE, SITE_URL, OWNER_DISPLAY_NAME, IS_DELETED, LAST_ACTIVITY,
      ...metrics('File Count', 'Active File Count'), STORAGE_USED,
      col('Storage Allocated (Byte)', 'quasi', 'int'),
      OWNER_UPN, REPORT_PERIOD,
    ],
  }),
  dailyCounts('getOneDriveUsageAccountCounts', 'oneDriveUsageAccountCounts', SITE_COUNT_COLUMNS),
  dailyCounts('getOneDriveUsageFileCounts', 'oneDriveUsageFileCounts', SITE_COUNT_COLUMNS),
  dailyCounts('getOneDriveUsageStorage', 'oneDriveUsageStorage', [SITE_TYPE, STORAGE_USED]),

  // --- SharePoint --------------------------------------------------------------------------------------
  report({
    name: 'getSharePointActivityUserDetail',
    activity: ['viewedOrEditedFileCount', 'syncedFileCount', 'sharedInternallyFileCount', 'sharedExternallyFileCount', 'visitedPageCount'],
    shape: 'userDetail',
    entity: 'user',
    parameters: 'periodOrDate',
    jsonType: 'sharePointActivityUserDetail',
    columns: [
      REFRESH_DATE, UPN, IS_DELETED, DELETED_DATE, LAST_ACTIVITY,
      ...metrics(
        'Viewed Or Edited File Count', 'Synced File Count', 'Shared Internally File Count',
        'Shared Externally File Count', 'Visited Page Count',
      ),
      ASSIGNED_PRODUCTS, REPORT_PERIOD,
    ],
  }),
  dailyCounts(
    'getSharePointActivityUserCounts',
    'sharePointActivityUserCounts',
    metrics('Visited Page', 'Viewed Or Edited', 'Synced', 'Shared Internally', 'Shared Externally'),
  ),
  dailyCounts('getSharePointActivityPages', 'sharePointActivityPages', metrics('Visited Page Count')),
  dailyCounts(
    'getSharePointActivityFileCounts',
    'siteActivitySummary',
    metrics('Viewed Or Edited', 'Synced', 'Shared Internally', 'Shared Externally'),
    true,
  ),
  report({
    name: 'getSharePointSiteUsageDetail',
    shape: 'entityDetail',
    entity: 'site',
    parameters: 'periodOrDate',
    jsonType: 'sharePointSiteUsageDetail',
    columns: [
      REFRESH_DATE,
      col('Site Id', 'identifier', 'guid'),
      SITE_URL,
      OWNER_DISPLAY_NAME,
      IS_DELETED,
      LAST_ACTIVITY,
      ...metrics('File Count', 'Active File Count', 'Page View Count', 'Visited Page Count'),
      STORAGE_USED,
      col('Storage Allocated (Byte)', 'quasi', 'int'),
      col('Root Web Template', 'dimension', 'text'),
      OWNER_UPN,
      REPORT_PERIOD,
    ],
  }),
  dailyCounts('getSharePointSiteUsageFileCounts', 'sharePointSiteUsageFileCounts', SITE_COUNT_COLUMNS),
  dailyCounts('getSharePointSiteUsageSiteCounts', 'sharePointSiteUsageSiteCounts', SITE_COUNT_COLUMNS),
  dailyCounts('getSharePointSiteUsagePages', 'sharePointSiteUsagePages', [SITE_TYPE, metric('Page View Count')]),
  dailyCounts('getSharePointSiteUsageStorage', 'sharePointSiteUsageStorage', [SITE_TYPE, STORAGE_USED]),

  // --- Microsoft 365 Apps --------------------------------------------------------------------------------
  report({
    name: 'getM365AppUserDetail',
    v1Formats: ['csv', 'json'],
    shape: 'userDetail',
    entity: 'user',
    parameters: 'periodOrDate',
    jsonType: 'm365AppUserDetail',
    nestedProperty: 'details',
    columns: [
      REFRESH_DATE, UPN, quasiDate('Last Activation Date'), LAST_ACTIVITY, NESTED_PERIOD,
      ...M365_APP_FLAGS.map((h) => yesNo(h, { nested: true })),
    ],
  }),

  // --- Microsoft 365 groups ------------------------------------------------------------------------------
  report({
    name: 'getOffice365GroupsActivityDetail',
    peopleColumn: 'memberCount',
    shape: 'entityDetail',
    entity: 'group',
    parameters: 'periodOrDate',
    jsonType: 'office365GroupsActivityDetail',
    columns: [
      REFRESH_DATE,
      col('Group Display Name', 'identifier', 'text', { conceal: { as: 'hex', namespace: 'groupName' } }),
      IS_DELETED,
      OWNER_UPN,
      LAST_ACTIVITY,
      col('Group Type', 'dimension', 'text'),
      ...metrics(
        'Member Count', 'External Member Count', 'Exchange Received Email Count', 'SharePoint Active File Count',
        'Yammer Posted Message Count', 'Yammer Read Message Count', 'Yammer Liked Message Count',
        'Exchange Mailbox Total Item Count', 'Exchange Mailbox Storage Used (Byte)', 'SharePoint Total File Count',
        'SharePoint Site Storage Used (Byte)',
      ),
      col('Group Id', 'identifier', 'guid', { conceal: { as: 'zeroGuid' } }),
      REPORT_PERIOD,
      metric('Teams Channel Messages Count', { only: 'json' }),
      metric('Teams Meetings Organized Count', { only: 'json' }),
    ],
  }),
  dailyCounts(
    'getOffice365GroupsActivityCounts',
    'office365GroupsActivityCounts',
    metrics('Exchange Emails Received', 'Yammer Messages Posted', 'Yammer Messages Read', 'Yammer Messages Liked'),
  ),
  dailyCounts('getOffice365GroupsActivityFileCounts', 'office365GroupsActivityFileCounts', metrics('Total', 'Active')),
  dailyCounts('getOffice365GroupsActivityGroupCounts', 'office365GroupsActivityGroupCounts', metrics('Total', 'Active')),
  dailyCounts(
    'getOffice365GroupsActivityStorage',
    'office365GroupsActivityStorage',
    metrics('Mailbox Storage Used (Byte)', 'Site Storage Used (Byte)'),
  ),

  // --- Office activations (no period, no date) ------------------------------------------------------------
  report({
    name: 'getOffice365ActivationsUserDetail',
    versions: ['beta'],
    activity: ['windows', 'mac', 'windows10Mobile', 'ios', 'android'],
    shape: 'userDetail',
    entity: 'user',
    parameters: 'none',
    jsonType: 'office365ActivationsUserDetail',
    nestedProperty: 'userActivationCounts',
    columns: [
      REFRESH_DATE, UPN, DISPLAY_NAME,
      { ...PRODUCT_TYPE, nested: true },
      quasiDate('Last Activated Date', { nested: true }),
      ...metrics('Windows', 'Mac', 'Windows 10 Mobile').map((c) => ({ ...c, nested: true })),
      metric('iOS', { json: 'ios', nested: true }),
      metric('Android', { nested: true }),
      quasiFlag('Activated On Shared Computer', { nested: true }),
    ],
  }),
  report({
    name: 'getOffice365ActivationCounts',
    versions: ['beta'],
    shape: 'counts',
    entity: 'tenant',
    parameters: 'none',
    jsonType: 'office365ActivationCounts',
    jsonNamesDocumented: false,
    columns: [REFRESH_DATE, PRODUCT_TYPE, ...metrics('Windows', 'Mac', 'Android'), metric('iOS', { json: 'ios' }), metric('Windows 10 Mobile')],
  }),
  report({
    name: 'getOffice365ActivationsUserCounts',
    versions: ['beta'],
    shape: 'counts',
    entity: 'tenant',
    parameters: 'none',
    jsonType: 'office365ActivationsUserCounts',
    jsonNamesDocumented: false,
    columns: [REFRESH_DATE, PRODUCT_TYPE, ...metrics('Assigned', 'Activated', 'Shared Computer Activation')],
  }),

  // --- Viva Engage (Yammer) ---------------------------------------------------------------------------------
  report({
    name: 'getYammerActivityUserDetail',
    activity: ['postedCount', 'readCount', 'likedCount'],
    shape: 'userDetail',
    entity: 'user',
    parameters: 'periodOrDate',
    jsonType: 'yammerActivityUserDetail',
    columns: [
      REFRESH_DATE, UPN, DISPLAY_NAME,
      col('User State', 'quasi', 'text'),
      quasiDate('State Change Date'),
      LAST_ACTIVITY,
      ...metrics('Posted Count', 'Read Count', 'Liked Count'),
      ASSIGNED_PRODUCTS, REPORT_PERIOD,
    ],
  }),
  report({
    name: 'getYammerDeviceUsageUserDetail',
    shape: 'userDetail',
    entity: 'user',
    parameters: 'periodOrDate',
    jsonType: 'yammerDeviceUsageUserDetail',
    columns: [
      REFRESH_DATE, UPN, DISPLAY_NAME,
      col('User State', 'quasi', 'text'),
      quasiDate('State Change Date'),
      LAST_ACTIVITY,
      yesNo('Used Web'), yesNo('Used Windows Phone'), yesNo('Used Android Phone'),
      yesNo('Used iPhone', { json: 'usediPhone' }), yesNo('Used iPad', { json: 'usediPad' }), yesNo('Used Others'),
      REPORT_PERIOD,
    ],
  }),

  dailyCounts('getYammerActivityCounts', 'yammerActivitySummary', metrics('Liked', 'Posted', 'Read'), true),
  dailyCounts('getYammerActivityUserCounts', 'yammerActivitySummary', metrics('Liked', 'Posted', 'Read'), true),
  dailyCounts('getYammerDeviceUsageUserCounts', 'yammerDeviceUsageUserCounts', YAMMER_DEVICE_COUNTS, true),
  report({
    name: 'getYammerDeviceUsageDistributionUserCounts',
    shape: 'counts',
    entity: 'tenant',
    parameters: 'period',
    jsonType: 'yammerDeviceUsageDistributionUserCounts',
    columns: [REFRESH_DATE, ...YAMMER_DEVICE_COUNTS, REPORT_PERIOD],
  }),

  // --- Microsoft 365 Copilot ----------------------------------------------------------------------------------
  report({
    name: 'getMicrosoft365CopilotUsageUserDetail',
    v1Formats: ['csv', 'json'],
    shape: 'userDetail',
    entity: 'user',
    parameters: 'period',
    periods: ['D7', 'D30', 'D90', 'D180', 'ALL'],
    root: { 'v1.0': '/copilot/reports' },
    defaultFormat: 'json',
    jsonType: 'copilotUsageUserDetail',
    nestedProperty: 'copilotActivityUserDetailsByPeriod',
    columns: [
      REFRESH_DATE, NESTED_PERIOD, UPN, DISPLAY_NAME, LAST_ACTIVITY,
      ...[
        'Microsoft Teams Copilot', 'Word Copilot', 'Excel Copilot', 'PowerPoint Copilot', 'Outlook Copilot',
        'OneNote Copilot', 'Loop Copilot', 'Copilot Chat',
      ].map((app) => col(`${app} Last Activity Date`, 'metric', 'date')),
    ],
  }),
];

// ---------------------------------------------------------------------------------------------------------
// Lookups.

const BY_NAME: ReadonlyMap<string, ReportSpec> = new Map(REPORTS.map((r) => [r.name.toLowerCase(), r]));

/** The report of that name (case-insensitive, with or without the `microsoft.graph.` prefix), if any. */
export function findReport(name: string): ReportSpec | undefined {
  const bare = name.replace(/^microsoft\.graph\./i, '');
  return BY_NAME.get(bare.toLowerCase());
}

/** The columns of a report as they appear in one output format, in output order. */
export function columnsFor(spec: ReportSpec, format: 'csv' | 'json'): readonly ColumnSpec[] {
  return spec.columns.filter((c) => c.only === undefined || c.only === format);
}

/** The CSV header line's names, in order. */
export function csvHeaders(spec: ReportSpec): string[] {
  return columnsFor(spec, 'csv').map((c) => c.header);
}

/**
 * Finds a column by either of its names: the CSV header or the JSON property (case-insensitive, spaces
 * folded). Policies may use either; both resolve to the same column.
 */
export function findColumn(spec: ReportSpec, name: string): ColumnSpec | undefined {
  const wanted = normaliseColumnName(name);
  return spec.columns.find((c) => normaliseColumnName(c.header) === wanted || c.json.toLowerCase() === wanted);
}

function normaliseColumnName(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}
