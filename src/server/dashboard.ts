/**
 * The organisation's adoption dashboard at `/`: the org score and its categories, the per-department view,
 * the trend over the last six months (an inline SVG, no script, nothing from a CDN) and a link to the
 * disclosure. Aggregates only, each cohort protected by k_org; there is no per-person view, and the page says so.
 * Served only to a consumer whose policy grants the score (its key as bearer token or Basic password).
 */
import type { FastifyInstance } from 'fastify';
import type { DirectoryAttribute } from '../cohort/directory.js';
import type { ReleaseCadence } from '../cohort/release.js';
import { scoreGrantFor } from '../policy/decide.js';
import type { Period } from '../catalogue/catalogue.js';
import type { ScoreRow } from '../score/org-score.js';
import type { PolicySet } from '../policy/load.js';
import type { OrgScores } from '../score/org-scores.js';
import type { ScoreHistoryStore, ScorePoint } from '../store/store.js';
import { PAGE_SECURITY_HEADERS, escapeHtml } from './pages.js';
import { requirePageViewer } from './auth.js';
import { errorResponse, ProxyRefusal } from './errors.js';
import type { ConsumerKeys } from './consumer-keys.js';

/**
 * The page's preferences: the period and dimension it shows when the viewer's policy releases them (else the
 * policy's first score period and first declared dimension). Sizes, noise and dimensions are the policy's.
 */
export interface DashboardSettings {
  readonly period?: Period;
  readonly by?: DirectoryAttribute;
}

const SCORE_PERIODS: readonly Period[] = ['D7', 'D30', 'D90', 'D180'];

/** A category's points as a bar; hidden (`why`: every reason it may be, never which one, which would narrow it). */
const bar = (points: number | null, why: string) =>
  points === null ? `<span class="muted">not shown (hidden for one of these reasons, never said which: ${why})</span>` : `<span class="bar"><span style="width:${Math.max(0, Math.min(100, points))}%"></span></span> ${points}`;

/** The trend as an SVG line chart of the total percentage per refresh date; a point per fresh release (`cadence`). */
export function trendSvg(points: readonly ScorePoint[], cadence: ReleaseCadence = 'daily'): string {
  const shown = points.filter((p) => p.percentage !== null);
  const step = cadence === 'weekly' ? 'one point a week (a fresh score is released once a week)' : 'one point per Graph refresh';
  if (shown.length === 0) return `<p class="muted">No history yet: the trend appears as scores accumulate, ${step}.</p>`;
  const width = 640;
  const height = 200;
  const pad = 32;
  const x = (i: number) => pad + (shown.length === 1 ? (width - 2 * pad) / 2 : (i * (width - 2 * pad)) / (shown.length - 1));
  const y = (v: number) => height - pad - (v / 100) * (height - 2 * pad);
  const firstDay = shown.length === 1 ? `<p id="trend-start" class="small">History starts with the reports of ${escapeHtml(shown[0]!.refreshDate)}: the trend grows by ${step}.</p>` : '';
  const path = shown.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p.percentage!).toFixed(1)}`).join(' ');
  const dots = shown.map((p, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(p.percentage!).toFixed(1)}" r="3"><title>${escapeHtml(p.refreshDate)}: ${p.percentage}%</title></circle>`).join('');
  return `<svg id="trend" role="img" aria-label="Adoption score over time" viewBox="0 0 ${width} ${height}" width="100%" style="max-width:${width}px">
  <line x1="${pad}" y1="${y(0)}" x2="${width - pad}" y2="${y(0)}" stroke="#bbb"/><line x1="${pad}" y1="${y(100)}" x2="${width - pad}" y2="${y(100)}" stroke="#eee"/>
  <text x="4" y="${y(100) + 4}" font-size="11">100%</text><text x="4" y="${y(0) + 4}" font-size="11">0%</text>
  <text x="${pad}" y="${height - 8}" font-size="11">${escapeHtml(shown[0]!.refreshDate)}</text><text x="${width - pad}" y="${height - 8}" font-size="11" text-anchor="end">${escapeHtml(shown.at(-1)!.refreshDate)}</text>
  <path d="${path}" fill="none" stroke="#2a6fb0" stroke-width="2"/>${dots}</svg>${firstDay}`;
}

/**
 * Why a group or figure may be hidden, in plain words (issue 15 item 7); which reason applies is never said (that
 * would narrow it: an empty group and a group of 1..k-1 look the same, G8).
 */
function hiddenWhy(kOrg: number, kC: number): string {
  return `fewer than ${kOrg} people; protecting a few inactive people (1 to ${kC - 1} people in the group who do not count in a category, or fewer than ${kC} who do); or needed to protect another hidden group, which could otherwise be worked out from the figures shown`;
}

export function dashboardHtml(input: { period: string; kOrg: number; kC: number; cadence?: ReleaseCadence; by: string; rows?: ScoreRow[]; refreshDate?: string | null; history: ScorePoint[]; problem?: string; concealed?: boolean; directoryChanged?: boolean }): string {
  const why = hiddenWhy(input.kOrg, input.kC);
  const organization = input.rows?.find((r) => r.dimension === 'organization');
  const cohorts = input.rows?.filter((r) => r.dimension !== 'organization') ?? [];
  const categories = organization === undefined ? '' : `<table id="categories"><thead><tr><th>Category</th><th>Points (0-100)</th><th>People</th><th>How it is measured</th></tr></thead><tbody>${organization.categories
    .map((c) => `<tr><td>${escapeHtml(c.title)}</td><td>${bar(c.points, why)}</td><td>${c.numerator === null ? '' : `${c.numerator} of ${c.denominator}`}</td><td class="small">${escapeHtml(c.definition)}</td></tr>`)
    .join('')}</tbody></table>`;
  // Groups are compared on the same categories: those released for every group shown.
  const shown = cohorts.filter((r) => !r.suppressed);
  const titles = cohorts[0]?.categories.map((c) => ({ id: c.id, title: c.title })) ?? [];
  const common = titles.filter((c) => shown.length > 0 && shown.every((r) => r.categories.some((x) => x.id === c.id && !x.suppressed)));
  const comparable = (r: ScoreRow) => {
    const points = r.categories.filter((c) => common.some((x) => x.id === c.id)).map((c) => c.points!);
    return r.suppressed || points.length === 0 ? null : Math.round((10 * points.reduce((a, b) => a + b, 0)) / points.length) / 10;
  };
  // A noisy group's figures are shown with their 95% margins, so a difference smaller than them is not read as one.
  const figures = (c: ScoreRow['categories'][number]) =>
    c.numeratorMargin95 === undefined || c.numeratorMargin95 === null || c.numeratorMargin95 === 0 ? '' : `<br><span class="small margin">${c.numerator} of ${c.denominator} people, each &plusmn;${c.numeratorMargin95}</span>`;
  const hidden = `<span class="muted" title="${escapeHtml(`Hidden: ${why}.`)}">hidden</span>`;
  const cell = (c: ScoreRow['categories'][number]) => (c.suppressed ? hidden : `${c.points}${figures(c)}`);
  const noisy = cohorts.some((r) => r.categories.some((c) => typeof c.numeratorMargin95 === 'number' && c.numeratorMargin95 > 0));
  const margins = noisy
    ? `<p class="small" id="margins">Group figures carry random noise, fixed per release, so that no person can be singled out: each count of people shown is within the &plusmn; margin beside it of the true count 95% of the time, and points are computed from these counts. Organisation figures are exact.</p>`
    : `<p class="small" id="exact">Group figures are exact: groups are protected by hiding them, not by noise.</p>`;
  const compared = common.length === 0 ? 'No category is released for every group shown, so the groups get no common score; compare them category by category.' : `The score compares every group on the same categories, those released for all groups shown: ${common.map((c) => escapeHtml(c.title)).join(', ')}.`;
  const departments = cohorts.length === 0 ? '' : `<h2>By ${escapeHtml(input.by)}</h2><p class="small" id="compared">${compared}</p>${margins}<p class="small" id="hidden-why">A group or a figure marked hidden is hidden for one of these reasons, never said which: ${escapeHtml(why)}. An empty group looks the same.</p><table id="cohorts"><thead><tr><th>${escapeHtml(input.by)}</th><th>Score</th>${titles.map((c) => `<th>${escapeHtml(c.title)}</th>`).join('')}</tr></thead><tbody>${cohorts
    .map((r) => `<tr><td>${escapeHtml(r.cohort.join(' / '))}</td><td>${comparable(r) === null ? hidden : `${bar(comparable(r), why)}%`}</td>${r.categories.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
  const changed = input.directoryChanged === true ? `<p id="directory-changed" class="note">Groups by ${escapeHtml(input.by)} are not shown today: the directory changed between reads of the score's reports, which Microsoft Graph refreshed on different dates, and by a group the score would join some of their data to another directory than their cohorts were. They are shown again once the reports are refreshed together (usually the next day); the organisation's score is not affected.</p>` : '';
  const concealed = input.concealed === true ? `<p id="concealed" class="note">Groups by ${escapeHtml(input.by)} are not shown: Microsoft 365 conceals user names in its usage reports ("Display concealed user, group, and site names in all reports" is on), so report rows cannot be matched to the directory. An administrator can turn it off in the Microsoft 365 admin center (Settings, Org settings, Reports); the organisation's score does not need it.</p>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Microsoft 365 adoption - graph-privacy-proxy</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1d2733}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}td,th{border-bottom:1px solid #e2e6ea;padding:.35rem .5rem;text-align:left;vertical-align:top}.bar{display:inline-block;width:8rem;height:.7rem;background:#e8edf2;margin-right:.4rem}.bar span{display:block;height:100%;background:#2a6fb0}.big{font-size:2.4rem;font-weight:600}.muted{color:#6b7785}.small{font-size:.85rem;color:#4b5763}.note{background:#f4f7fa;border-left:4px solid #2a6fb0;padding:.6rem 1rem}</style>
</head><body>
<h1>Microsoft 365 adoption in our organisation</h1>
<p class="note">This page shows the organisation as a whole and groups of at least ${input.kOrg} people. <b>No person can be looked up here, by design</b>: there is no per-person view, and no tool connected to this proxy gets one either. <a href="/disclosure.html">What each tool can see</a>.</p>
${input.problem !== undefined ? `<p id="problem"><b>The score is not available:</b> ${escapeHtml(input.problem)}</p>` : ''}
${organization !== undefined ? `<p>Period: last ${escapeHtml(input.period.slice(1))} days${input.refreshDate ? `, reports of ${escapeHtml(input.refreshDate)}` : ''}.</p>
<p><span id="score" class="big">${organization.total.percentage === null ? 'n/a' : `${organization.total.percentage}%`}</span> <span class="muted">(${organization.total.points ?? 0} of ${organization.total.max} points)</span></p>
${categories}` : ''}
<h2>Trend</h2>${trendSvg(input.history, input.cadence)}
${departments}${concealed}${changed}
<p class="small">Built only from group totals that passed the minimum-size checks, never from individual rows. Based on Microsoft's Adoption Score people-experience categories; where Graph's reports lack Microsoft's exact measure, the definition says which stand-in is used.</p>
</body></html>`;
}

export interface DashboardRoutesOptions {
  readonly policies: { readonly current: PolicySet };
  readonly keys: ConsumerKeys;
  /** The app's one score service (shared with /org-score, so one cache and one history). */
  readonly scores: OrgScores;
  readonly history?: ScoreHistoryStore;
  readonly dashboard?: DashboardSettings;
}

export async function dashboardRoutes(app: FastifyInstance, options: DashboardRoutesOptions): Promise<void> {
  const { scores } = options;
  const preferred = { period: 'D30' as Period, by: 'department' as DirectoryAttribute, ...options.dashboard };
  // Browsers ask for it on every page; there is none (204 keeps their consoles clean).
  app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) => reply.code(204).header('cache-control', 'max-age=86400').send());
  app.get('/', { schema: { tags: ["pages"], summary: "The organisation adoption dashboard (HTML)", description: "The org score, its categories, the per-department view and the trend; no per-person view exists. Needs the key of a consumer whose policy grants the score (bearer, or as the Basic password a browser asks for). Shows the viewer's own release of the score, under its policy.", security: [{ consumerKey: [] }] } }, async (request, reply) => {
    request.audit.kind = 'dashboard';
    const set = options.policies.current;
    const consumer = requirePageViewer(request, reply, options.keys, set, 'score');
    request.audit.consumer = consumer;
    request.audit.policyVersion = set.version;
    // The page is a consumer like any other: it shows the release its viewer's policy grants, nothing more exact.
    const loaded = set.policyFor(consumer)!;
    request.audit.policy = loaded.policy.name;
    const periods = SCORE_PERIODS.filter((p) => (loaded.policy.periods as readonly string[]).includes(p));
    const period = periods.includes(preferred.period) ? preferred.period : periods[0];
    const grant = scoreGrantFor(loaded, set, period === undefined ? undefined : { period });
    const by = grant.dimensions.includes(preferred.by) ? preferred.by : grant.dimensions[0];
    // The sizes groups are hidden at: the organisation's score table's when other tools' grants raise them.
    const sizes = grant.joint ?? grant;
    const base = { period: period ?? preferred.period, kOrg: sizes.kOrg, kC: sizes.kC, cadence: grant.cadence, by: by ?? '' };
    const history = async () => (period === undefined ? [] : ((await options.history?.series(period)) ?? []));
    let page: string;
    try {
      if (period === undefined) throw new ProxyRefusal(403, 'Forbidden', "The viewer's policy releases no period the score is computed for.");
      const release = await scores.compute({ period }, grant, consumer);
      const rows = release.rows.filter((r) => r.dimension === 'organization' || r.dimension === by);
      const hidden = by !== undefined && !release.dimensions.includes(by);
      page = dashboardHtml({ ...base, rows, refreshDate: release.refreshDate, history: await history(), concealed: hidden && release.withheld === undefined, directoryChanged: hidden && release.withheld === 'directoryChanged' });
    } catch (error) {
      const response = errorResponse(error);
      request.audit.error = response.cause;
      page = dashboardHtml({ ...base, history: await history().catch(() => []), problem: response.message });
    }
    return reply.headers(PAGE_SECURITY_HEADERS).type('text/html; charset=utf-8').send(page);
  });
}
