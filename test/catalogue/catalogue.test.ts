import t from 'tap';
import { REPORTS, columnsFor, csvHeaders, findColumn, findReport, jsonNameOf } from '../../src/catalogue/catalogue.js';
import { checkDateWindow, checkServed, daysBefore, parseReportPath, parseReportQuery } from '../../src/catalogue/odata.js';
import { formatDuration, fromCsvText, parseDuration, toCsvText } from '../../src/catalogue/values.js';

t.test('JSON names follow Graph spelling, including its irregular headers', async (t) => {
  t.equal(jsonNameOf('Storage Used (Byte)'), 'storageUsedInBytes');
  t.equal(jsonNameOf('Prohibit Send/Receive Quota (Byte)'), 'prohibitSendReceiveQuotaInBytes');
  t.equal(jsonNameOf('Scheduled One-time Meetings Organized Count'), 'scheduledOneTimeMeetingsOrganizedCount');
  t.equal(jsonNameOf('Used  Chrome OS'), 'usedChromeOS');
  t.equal(jsonNameOf('POP3 App'), 'pop3App');
  t.equal(jsonNameOf('Outlook (Windows)'), 'outlookWindows');
  t.equal(jsonNameOf('Office 365'), 'office365');
});

t.test('every report is well formed: unique names, known roles, nested columns only with a nested array', async (t) => {
  const names = new Set<string>();
  for (const spec of REPORTS) {
    t.notOk(names.has(spec.name), `${spec.name} is listed once`);
    names.add(spec.name);
    const headers = csvHeaders(spec);
    t.equal(new Set(headers).size, headers.length, `${spec.name}: CSV headers are unique`);
    const json = columnsFor(spec, 'json').map((c) => c.json);
    t.equal(new Set(json).size, json.length, `${spec.name}: JSON names are unique`);
    t.equal(spec.columns.some((c) => c.nested === true), spec.nestedProperty !== undefined, `${spec.name}: nesting is consistent`);
    t.ok(spec.columns.every((c) => c.role !== 'identifier' || c.kind === 'text' || c.kind === 'guid'), `${spec.name}: identifiers are text`);
  }
  t.ok(REPORTS.length >= 45, 'the catalogue covers the reports of graph-reports.md');
});

t.test('identifier columns are classified as identifiers', async (t) => {
  const teams = findReport('getTeamsUserActivityUserDetail')!;
  for (const name of ['User Principal Name', 'User Id', 'Tenant Display Name']) t.equal(findColumn(teams, name)?.role, 'identifier', name);
  t.equal(findColumn(teams, 'Assigned Products')?.role, 'quasi');
  t.equal(findColumn(teams, 'Call Count')?.role, 'metric');
  const sites = findReport('getSharePointSiteUsageDetail')!;
  for (const name of ['Site Id', 'Site URL', 'Owner Display Name', 'Owner Principal Name']) t.equal(findColumn(sites, name)?.role, 'identifier', name);
});

t.test('columns and reports are found by either name', async (t) => {
  const spec = findReport('microsoft.graph.getemailactivityuserdetail');
  t.equal(spec?.name, 'getEmailActivityUserDetail');
  t.equal(findColumn(spec!, 'userPrincipalName'), findColumn(spec!, 'User Principal Name'));
  t.equal(findColumn(findReport('getTeamsDeviceUsageUserDetail')!, 'Used Chrome OS')?.json, 'usedChromeOS');
  t.equal(findColumn(spec!, 'userPrincipleName'), undefined);
});

t.test('the report path grammar accepts what Graph accepts and refuses the rest', async (t) => {
  const ok = (path: string) => parseReportPath(path);
  t.match(ok("/v1.0/reports/getTeamsUserActivityUserDetail(period='D7')"), { ok: true, value: { period: 'D7', version: 'v1.0' } });
  t.match(ok('/beta/reports/getEmailActivityUserDetail(date=2024-05-01)'), { ok: true, value: { date: '2024-05-01' } });
  t.match(ok("/beta/reports/getEmailActivityUserDetail(date='2024-05-01')"), { ok: true, value: { date: '2024-05-01' } });
  t.match(ok('/v1.0/reports/getEmailActivityUserDetail(period=%27D30%27)'), { ok: true, value: { period: 'D30' } });
  t.match(ok("/v1.0/reports/microsoft.graph.getOneDriveActivityUserCounts(period='D180')"), { ok: true });
  t.match(ok('/beta/reports/getOffice365ActivationsUserDetail'), { ok: true });
  t.match(ok("/v1.0/copilot/reports/getMicrosoft365CopilotUsageUserDetail(period='ALL')"), { ok: true });
  const refused: [string, RegExp][] = [
    ["/v1.0/reports/getTeamsUserActivityUserDetail(period='D8')", /Allowed values/],
    ["/v1.0/reports/getEmailActivityCounts(date=2024-05-01)", /only a period/],
    ['/v1.0/reports/getEmailActivityUserDetail(date=2024-02-30)', /YYYY-MM-DD/],
    ["/v1.0/reports/getNoSuchReport(period='D7')", /Resource not found/],
    ["/v2.0/reports/getEmailActivityUserDetail(period='D7')", /Invalid version/],
    ["/v1.0/reports/getMicrosoft365CopilotUsageUserDetail(period='D7')", /Resource not found/],
    ['/v1.0/reports/getEmailActivityUserDetail(%E0%A4%A)', /percent-encoded/],
    ["/beta/reports/getOffice365ActivationsUserDetail(period='D7')", /no parameters/],
    ['/v1.0/reports/getOffice365ActivationsUserDetail', /Resource not found for the segment 'getOffice365ActivationsUserDetail'/],
  ];
  for (const [path, message] of refused) {
    const parsed = parseReportPath(path);
    t.equal(parsed.ok, false, path);
    if (!parsed.ok) t.match(parsed.error.message, message, path);
  }
});

t.test('query options: $format, $top, $skiptoken only, each once', async (t) => {
  const detail = findReport('getEmailActivityUserDetail')!;
  const counts = findReport('getEmailActivityCounts')!;
  t.match(parseReportQuery(detail, new URLSearchParams('$format=application/json&$top=5')), { ok: true, value: { format: 'json', top: 5 } });
  t.match(parseReportQuery(detail, new URLSearchParams('')), { ok: true, value: { format: 'csv' } });
  t.match(parseReportQuery(findReport('getMicrosoft365CopilotUsageUserDetail')!, new URLSearchParams('')), { ok: true, value: { format: 'json' } });
  for (const q of ['$format=xml', '$top=0', '$top=abc', '$filter=x', '$top=1&$TOP=2', 'foo=bar']) {
    t.equal(parseReportQuery(detail, new URLSearchParams(q)).ok, false, q);
  }
  t.equal(parseReportQuery(counts, new URLSearchParams('$top=5')).ok, false, 'counts reports take only $format');
});

t.test('value codec round-trips Graph formats', async (t) => {
  t.equal(formatDuration(0), 'PT0S');
  t.equal(formatDuration(3723), 'PT1H2M3S');
  t.equal(parseDuration('PT1H2M3S'), 3723);
  t.equal(parseDuration('PT'), undefined);
  const spec = findReport('getEmailActivityUserDetail')!;
  const products = findColumn(spec, 'Assigned Products')!;
  const list = ['MICROSOFT 365 E3', 'ENTERPRISE MOBILITY + SECURITY E5', 'POWER BI (FREE)'];
  t.same(fromCsvText(products, toCsvText(products, list)), list, "product names containing ' + ' survive");
  const deleted = findColumn(spec, 'Is Deleted')!;
  t.equal(toCsvText(deleted, true), 'True');
  t.throws(() => fromCsvText(findColumn(spec, 'Send Count')!, '12x'), { code: 'ValueFormatError' });
});

t.test('Graph serves JSON only in beta, except the reports whose v1.0 documentation has it (real Graph: 400 "JSON format is not supported.")', async (t) => {
  for (const report of REPORTS) {
    t.same(report.formats.beta, ['csv', 'json'], `${report.name} beta`);
    const v1Json = report.name === 'getM365AppUserDetail' || report.name === 'getMicrosoft365CopilotUsageUserDetail';
    t.equal(report.formats['v1.0'].includes('json'), v1Json, `${report.name} v1.0 JSON`);
    t.ok(report.formats['v1.0'].includes(report.defaultFormat) || !report.versions.includes('v1.0'), `${report.name}: the default format is served`);
  }
  const today = '2026-11-30';
  const refusal = checkServed({ version: 'v1.0', report: findReport('getTeamsUserActivityUserDetail')!, period: 'D7' }, 'json', today);
  t.match(refusal, { status: 400, code: 'BadRequest', message: /^JSON format is not supported\. .*has it in \/beta\//s });
  t.equal(checkServed({ version: 'beta', report: findReport('getTeamsUserActivityUserDetail')!, period: 'D7' }, 'json', today), undefined);
  t.equal(checkServed({ version: 'v1.0', report: findReport('getM365AppUserDetail')!, period: 'D7' }, 'json', today), undefined);
});

t.test('the activation reports exist only in beta (v1.0 answers "Resource not found for the segment")', async (t) => {
  for (const name of ['getOffice365ActivationsUserDetail', 'getOffice365ActivationCounts', 'getOffice365ActivationsUserCounts']) {
    t.same(findReport(name)!.versions, ['beta'], name);
    const parsed = parseReportPath(`/v1.0/reports/${name}`);
    t.match(parsed, { ok: false, error: { status: 400, code: 'BadRequest', message: `Resource not found for the segment '${name}'.` } });
  }
});

t.test('date=: Graph serves the past 28 days only (400 InvalidArgument "Only support data for the past 28 days")', async (t) => {
  const today = '2026-11-30';
  t.equal(daysBefore(today, 27), '2026-11-03');
  t.equal(checkDateWindow('2026-11-03', today), undefined, 'the 28th day back is served');
  t.equal(checkDateWindow(today, today), undefined);
  t.match(checkDateWindow('2026-11-02', today), { status: 400, code: 'InvalidArgument', message: /^Only support data for the past 28 days: date=2026-11-02 is older; .*2026-11-03 to 2026-11-30/ });
  t.match(checkDateWindow('2026-12-01', today), { status: 400, code: 'InvalidArgument', message: /after today/ });
  const call = { version: 'v1.0' as const, report: findReport('getEmailActivityUserDetail')!, date: '2026-10-01' };
  t.match(checkServed(call, 'csv', today), { code: 'InvalidArgument' });
});

t.test("getTeamsUserActivityCounts and UserCounts carry Graph's real header: Report Date second, '... Count' meeting columns", async (t) => {
  t.same(csvHeaders(findReport('getTeamsUserActivityCounts')!), [
    'Report Refresh Date', 'Report Date', 'Team Chat Messages', 'Private Chat Messages', 'Calls', 'Meetings',
    'Meetings Organized Count', 'Meetings Attended Count', 'Audio Duration', 'Video Duration', 'Screen Share Duration',
    'Post Messages', 'Reply Messages', 'Report Period',
  ]);
  t.same(csvHeaders(findReport('getTeamsUserActivityUserCounts')!), [
    'Report Refresh Date', 'Report Date', 'Team Chat Messages', 'Private Chat Messages', 'Calls', 'Meetings', 'Other Actions', 'Report Period',
  ]);
  t.equal(findColumn(findReport('getTeamsUserActivityCounts')!, 'meetingsOrganizedCount')?.header, 'Meetings Organized Count');
});

t.test('the documented counts reports that were missing are in the catalogue', async (t) => {
  t.same(csvHeaders(findReport('getSharePointActivityFileCounts')!), ['Report Refresh Date', 'Viewed Or Edited', 'Synced', 'Shared Internally', 'Shared Externally', 'Report Date', 'Report Period']);
  t.same(csvHeaders(findReport('getYammerActivityCounts')!), ['Report Refresh Date', 'Liked', 'Posted', 'Read', 'Report Date', 'Report Period']);
  t.same(csvHeaders(findReport('getYammerActivityUserCounts')!), ['Report Refresh Date', 'Liked', 'Posted', 'Read', 'Report Date', 'Report Period']);
  t.same(csvHeaders(findReport('getYammerDeviceUsageUserCounts')!), ['Report Refresh Date', 'Web', 'Windows Phone', 'Android Phone', 'iPhone', 'iPad', 'Other', 'Report Date', 'Report Period']);
  t.same(columnsFor(findReport('getYammerDeviceUsageDistributionUserCounts')!, 'json').map((c) => c.json), ['reportRefreshDate', 'web', 'windowsPhone', 'androidPhone', 'iPhone', 'iPad', 'other', 'reportPeriod']);
});

t.test("activity as Microsoft defines it: receiving mail is not activity, durations alone are not, Has Other Action is", async (t) => {
  t.same(findReport('getEmailActivityUserDetail')!.activity, ['sendCount', 'readCount', 'meetingCreatedCount', 'meetingInteractedCount']);
  const teams = findReport('getTeamsUserActivityUserDetail')!.activity!;
  t.ok(teams.includes('hasOtherAction'));
  t.notOk(teams.some((name) => /Duration/i.test(name)), 'no duration column');
  t.same(findReport('getOneDriveActivityUserDetail')!.activity, ['viewedOrEditedFileCount', 'syncedFileCount', 'sharedInternallyFileCount', 'sharedExternallyFileCount']);
  t.ok(findReport('getSharePointActivityUserDetail')!.activity!.includes('visitedPageCount'));
  t.same(findReport('getYammerActivityUserDetail')!.activity, ['postedCount', 'readCount', 'likedCount']);
  for (const report of REPORTS) for (const name of report.activity ?? []) t.ok(findColumn(report, name), `${report.name}: ${name} is a column`);
});
