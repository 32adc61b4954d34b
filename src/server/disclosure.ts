/**
 * `GET /disclosure` (JSON) and `GET /disclosure.html`: what every consumer can see under the live policy set,
 * in plain language. No key is needed: the page describes rules, not people, and is meant for staff and works
 * councils. Everything in it comes from the policy set; every value is HTML-escaped.
 */
import type { FastifyInstance } from 'fastify';
import type { PolicySet } from '../policy/load.js';
import { PAGE_SECURITY_HEADERS, escapeHtml } from './pages.js';
import { disclosureOf, type CohortDisclosure, type ConsumerDisclosure, type Disclosure, type RowsDisclosure } from '../policy/disclosure.js';

/** The live set's version and since when it is live (ISO 8601), with its policy history entry if recorded. */
export interface PolicyActivation {
  readonly version: string;
  readonly since: string;
  readonly historyEntry?: number;
}

const list = (items: readonly string[]) => (items.length === 0 ? 'none' : items.map(escapeHtml).join(', '));

function rowsSection(r: RowsDisclosure): string {
  const generalised = r.generalised.map((g) => `${escapeHtml(g.column)} (${escapeHtml(g.to)})`);
  return `<li><h4>${escapeHtml(r.report)}: one row per person, team or day</h4><ul>
    <li><b>In clear:</b> ${list(r.inClear)}</li>
    <li><b>As a pseudonym the tool cannot reverse</b> (different for every tool): ${list(r.pseudonymised)}</li>
    <li><b>Only roughly:</b> ${generalised.length === 0 ? 'none' : generalised.join(', ')}</li>
    <li><b>Never:</b> ${list(r.notReleased)}</li>
    ${r.rareCombinations !== undefined ? `<li>A row whose combination of ${list(r.rareCombinations.columns)} is shared by fewer than ${r.rareCombinations.k} people is withheld.</li>` : ''}
    ${r.smallGroups !== undefined ? `<li>${escapeHtml(r.smallGroups[0]!.toUpperCase() + r.smallGroups.slice(1))}.</li>` : ''}
  </ul></li>`;
}

/** Why a report's groups are hidden as part of a larger table (CohortDisclosure.sharedTable), in plain words. */
function sharedTableText(table: NonNullable<CohortDisclosure['sharedTable']>[number]): string {
  const reasons = [
    ...(table.withScore.length > 0 ? [`the org score's ${escapeHtml(table.withScore.join(' and '))} ${table.withScore.length > 1 ? 'categories count' : 'category counts'} people from this report's rows`] : []),
    ...(table.withPeriods.length > 0 ? [`its ${escapeHtml(table.withPeriods.join(', '))} figures nest (whoever was active over the shorter period was active over the longer)`] : []),
  ];
  const title = table.withScore.length > 0 ? 'the org score' : table.withPeriods.length > 0 ? 'its other periods' : 'other tools';
  return `<b>Shared with ${title}:</b> ${reasons.length > 0 ? reasons.join(', and ') : 'other tools read this report too'}, so for ${escapeHtml(table.periods.join(', '))} its groups are hidden as part of one table for all of them (grouped by ${escapeHtml(table.groupedBy.join(', '))}; groups under ${table.k} people, or with fewer than ${table.kC} active or 1 to ${table.kC - 1} inactive people, hidden): a group is shown on all or on none, so what is seen together never shows a group one of them hides.`;
}

function cohortSection(c: CohortDisclosure): string {
  return `<li><h4>${escapeHtml(c.report)}: group totals only, never a person</h4><ul>
    <li><b>Groups:</b> ${list(c.groupedBy)}</li>
    <li>A group of fewer than ${c.k} people is shown as "suppressed", exactly like an empty group; fewer than ${c.kC} active people, or 1 to ${c.kC - 1} inactive people, in a group hide it too (a group where everyone was active is shown), and so are other groups from which it could be worked out.</li>
    <li><b>Totals per group:</b> ${c.sums.length === 0 ? 'people and active people only' : `people, active people, and ${c.sums.map((s) => `${escapeHtml(s.column)} (each person counted up to ${s.cappedAt})`).join(', ')}`}</li>
    <li><b>Where:</b> ${list(c.endpoints)}</li>
    ${c.noise !== undefined ? `<li><b>Noise:</b> ${escapeHtml(c.noise.statement[0]!.toUpperCase() + c.noise.statement.slice(1))}</li>` : ''}
    ${(c.sharedTable ?? []).map((table) => `<li>${sharedTableText(table)}</li>`).join('\n    ')}
    ${c.exact !== undefined ? `<li><b>Exact figures:</b> ${escapeHtml(c.exact[0]!.toUpperCase() + c.exact.slice(1))}.</li>` : ''}
  </ul></li>`;
}

/** How exact the score's figures are: exact, or each group's category counts with their 95% margins. */
function scoreAccuracy(c: ConsumerDisclosure): string {
  const m = c.scoreMinimums;
  // The score's own minimums (k_org can be above the cohorts' k): a group the cohorts show can be hidden in the score.
  const hidden = m === undefined ? 'hidden where the groups above are hidden' : `hidden where the groups above are hidden, and for any group of fewer than ${m.kOrg} people, or with fewer than ${m.kC} people who qualify or 1 to ${m.kC - 1} who do not`;
  if (c.scoreNoise === undefined) return `Its figures are exact, ${hidden}.`;
  return `Its category figures are ${hidden}. Per group below the whole organisation, each category's people who qualify (the numerator) are within &plusmn;${c.scoreNoise.numeratorMargin95} and the people counted (the denominator) within &plusmn;${c.scoreNoise.denominatorMargin95} of the true figures 95% of the time (released as <code>numeratorMargin95</code> and <code>denominatorMargin95</code>); the organisation's score is exact. One score release costs epsilon ${Math.round(c.scoreNoise.epsilonPerRelease * 1000) / 1000}.`;
}

function consumerSection(c: ConsumerDisclosure): string {
  return `<section><h3>${escapeHtml(c.consumer)} <small>(policy ${escapeHtml(c.policy)})</small></h3>
  <p>${escapeHtml(c.description)}</p>
  ${c.reports.length === 0 ? '<p><b>This tool receives nothing:</b> every report is denied.</p>' : `<p>It may ask for ${c.reports.length} report${c.reports.length === 1 ? '' : 's'}, as ${list(c.formats.map((f) => f.toUpperCase()))}, for the periods ${list(c.periods)}${c.singleDates ? ' and single days (group figures and the score of a single day are the organisation\'s only: a day lies within the periods, and its groups beside them could narrow a group a period hides)' : ''}. Every other report is denied.</p>
  <ul>${c.reports.map((r) => (r.kind === 'rows' ? rowsSection(r) : cohortSection(r))).join('')}</ul>`}
  ${c.orgScore ? `<p>It may also read the organisation-level adoption score (${list(c.scoreEndpoints)}), built from the same protected groups. ${scoreAccuracy(c)}</p>` : ''}
  <p>A fresh release is made ${c.freshReleases === 'weekly' ? 'once a week' : "at each of Microsoft's daily refreshes"} and served unchanged in between${c.epsilonPerYear !== null ? `; this tool's yearly share of the organisation's privacy budget is epsilon ${c.epsilonPerYear}` : ''}.</p>
  ${c.policyPreview ? "<p>It may also read the policy preview: for every tool, how many rows and groups are released or withheld and how identifying the released rows are (counts only, never a row).</p>" : ''}
  </section>`;
}

export function disclosureHtml(d: Disclosure, live?: PolicyActivation): string {
  const since = live !== undefined && live.version === d.policyVersion ? `, in force since ${escapeHtml(live.since.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}${live.historyEntry !== undefined ? ` (policy history entry ${live.historyEntry})` : ''}` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>What each tool can see - graph-privacy-proxy</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2733}h1{font-size:1.6rem}section{border-top:1px solid #d5dbe1;padding-top:.5rem;margin-top:1.5rem}h4{margin:.8rem 0 .2rem}small{color:#5b6875;font-weight:normal}code{background:#f1f3f5;padding:0 .2rem}</style>
</head><body>
<h1>What each tool can see</h1>
<p>Analytics tools never talk to Microsoft 365 directly: they go through this proxy, which gives each tool only what its policy allows. This page is generated from the policies in force right now (version <code>${escapeHtml(d.policyVersion)}</code>${since}).</p>
<p id="yearly-loss">${escapeHtml(d.organisationStatement)}</p>
<h2>Never released to any tool</h2><ul>${d.neverReleased.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
<h2>Good to know</h2><ul>${d.goodToKnow.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
<h2>What the proxy itself keeps</h2><ul>${d.keptByProxy.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
<h2>Tool by tool</h2>
${d.consumers.map(consumerSection).join('\n')}
<p><a href="/">Back to the organisation's adoption overview</a></p>
</body></html>`;
}

export async function disclosureRoutes(app: FastifyInstance, options: { readonly policies: { readonly current: PolicySet }; readonly policyActivation?: () => PolicyActivation | undefined }): Promise<void> {
  const liveFor = (set: PolicySet) => {
    const live = options.policyActivation?.();
    return live !== undefined && live.version === set.version ? live : undefined;
  };
  app.get('/disclosure', { schema: { tags: ["disclosure"], summary: "What each consumer can see (JSON)", description: "Generated from the live policy set: per consumer, the reports it may call and what each releases.", security: [] } }, async (_request, reply) => {
    const set = options.policies.current;
    const live = liveFor(set);
    return reply.header('x-policy-version', set.version).headers({ 'cache-control': 'no-store' }).send({ ...disclosureOf(set), ...(live !== undefined ? { inForceSince: live.since, ...(live.historyEntry !== undefined ? { policyHistoryEntry: live.historyEntry } : {}) } : {}) });
  });
  app.get('/disclosure.html', { schema: { tags: ["pages"], summary: "What each consumer can see (HTML, plain language)", description: "The disclosure for staff and works councils.", security: [] } }, async (_request, reply) => {
    const set = options.policies.current;
    return reply.header('x-policy-version', set.version).headers(PAGE_SECURITY_HEADERS).type('text/html; charset=utf-8').send(disclosureHtml(disclosureOf(set), liveFor(set)));
  });
}
