/**
 * A stand-in for Graph that serves pre-generated report bytes from memory (benchmarks only): the simulator's
 * rows are rendered once at start, so serving a JSON page or a CSV download costs a memory copy and the proxy,
 * not the row generator, is what a benchmark measures. HTTPS on 127.0.0.1; prints one JSON line
 * `{ "url", "ca" }` on stdout when listening. Any bearer token is accepted (Graph's checks are not measured;
 * tokens come from the simulator's Entra ID). With `--score` it also serves the org score's source reports (CSV,
 * D30) and the tenant's directory (`/users`), rendered once and kept in the temporary directory for the next run.
 * With `--latency-ms N` every response waits N ms first: Graph's round trip, which the proxy pays once per
 * directory page (300 of them at 300,000 users, one after the other) and per report.
 * Run: node --import tsx bench/stand-in-graph.ts [users] [--score] [--latency-ms N]
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { findReport } from '../src/catalogue/catalogue.js';
import { UTF8_BOM } from '../src/catalogue/csv.js';
import { ReportRenderer } from '../src/simulator/render.js';
import { LAST_DAY, reportSource } from '../src/simulator/reports.js';
import { SimulatedTenant } from '../src/simulator/tenant.js';
import { selfSignedCertificate } from '../src/server/tls.js';
import { SCORE_SOURCE_REPORTS } from '../src/score/score-facts.js';

const users = Number(process.argv.slice(2).find((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--latency-ms') ?? 10_000);
const withScore = process.argv.includes('--score');
const latencyAt = process.argv.indexOf('--latency-ms');
const latencyMs = latencyAt === -1 ? 0 : Number(process.argv[latencyAt + 1]);
const REPORT = 'getOffice365ActiveUserDetail';
const spec = findReport(REPORT)!;
const tenant = new SimulatedTenant({ users, seed: 1 });
const source = reportSource(tenant, spec, { firstDay: LAST_DAY - 29, lastDay: LAST_DAY, periodDays: 30 });
const renderer = new ReportRenderer(tenant, spec, { concealed: false });
let csv = UTF8_BOM + renderer.csvHeader('\r\n');
const items: string[] = [];
for (let i = 0; i < source.count; i++) {
  csv += renderer.csvLines(source.item(i), '\r\n');
  items.push(JSON.stringify(renderer.jsonItem(source.item(i))));
}
const csvBytes = Buffer.from(csv, 'utf8');

/** A report's D30 CSV as Graph sends it, rendered once per tenant size and kept in the temporary directory. */
function renderedCsv(name: string): Buffer {
  const file = join(tmpdir(), `gpp-stand-in-${users}-${name}-D30.csv`);
  if (existsSync(file)) return readFileSync(file);
  const report = findReport(name)!;
  const rows = reportSource(tenant, report, { firstDay: LAST_DAY - 29, lastDay: LAST_DAY, periodDays: 30 });
  const render = new ReportRenderer(tenant, report, { concealed: false });
  const parts = [UTF8_BOM + render.csvHeader('\r\n')];
  for (let i = 0; i < rows.count; i++) parts.push(render.csvLines(rows.item(i), '\r\n'));
  const bytes = Buffer.from(parts.join(''), 'utf8');
  writeFileSync(`${file}.part`, bytes);
  renameSync(`${file}.part`, file);
  return bytes;
}
const scoreCsv = new Map(withScore ? SCORE_SOURCE_REPORTS.map((r) => [r.name, renderedCsv(r.name)] as const) : []);
/** The directory, 999 users a page, with the attributes the proxy selects. */
const userPages: string[] = [];
if (withScore) {
  const DIRECTORY_PAGE = 999;
  for (let start = 0; start < tenant.size; start += DIRECTORY_PAGE) {
    const value = [];
    for (let i = start; i < Math.min(tenant.size, start + DIRECTORY_PAGE); i++) {
      const u = tenant.user(i);
      if (u.deletedDay === null) value.push({ id: u.id, userPrincipalName: u.userPrincipalName, department: u.department, officeLocation: u.officeLocation, city: u.city, country: u.country, companyName: u.companyName, jobTitle: u.jobTitle });
    }
    userPages.push(JSON.stringify({ value }));
  }
}

const tls = await selfSignedCertificate(1);
const app = Fastify({ logger: false, https: { key: tls.key, cert: tls.cert } });
if (latencyMs > 0) app.addHook('onRequest', () => new Promise<void>((resolve) => setTimeout(resolve, latencyMs)));
app.get('/v1.0/admin/reportSettings', async () => ({ displayConcealedNames: false }));
app.get('/v1.0/users', async (request, reply) => {
  const page = Number(new URLSearchParams(request.url.split('?')[1] ?? '').get('$skiptoken') ?? 0);
  if (userPages.length === 0) return { value: [] };
  const next = page + 1 < userPages.length ? `,"@odata.nextLink":"${base}/v1.0/users?$top=999&$skiptoken=${page + 1}"` : '';
  return reply.type('application/json').send(`${userPages[page]!.slice(0, -1)}${next}}`);
});
/**
 * A download's bytes as a stream of 256 KiB views of the rendered report (no copy). One write of the whole report
 * (60 MB at 300,000 users) costs Node's TLS socket about three times the CPU of writing it in pieces (a 60 MB
 * buffer five times over HTTPS to undici on this machine: 3.0 s of CPU against 0.9 s for 64-256 KiB pieces), and
 * this process shares the machine's cores with the proxy it stands in front of.
 */
function inPieces(bytes: Buffer): Readable {
  const PIECE = 256 * 1024;
  let at = 0;
  return new Readable({
    read() {
      this.push(at < bytes.length ? bytes.subarray(at, (at += PIECE)) : null);
    },
  });
}
app.get('/data/download', async (_request, reply) => reply.type('application/octet-stream').header('content-length', csvBytes.length).send(inPieces(csvBytes)));
app.get('/data/:report', async (request, reply) => {
  const bytes = scoreCsv.get((request.params as { report: string }).report);
  return bytes === undefined ? reply.code(404).send('') : reply.type('application/octet-stream').header('content-length', bytes.length).send(inPieces(bytes));
});
const report = async (request: { url: string }, reply: import('fastify').FastifyReply) => {
  const [path = '', query = ''] = request.url.split('?');
  const params = new URLSearchParams(query);
  const name = /reports\/(\w+)\(/.exec(path)?.[1] ?? '';
  if (params.get('$format') !== 'application/json') return reply.code(302).header('location', `${base}/data/${scoreCsv.has(name) ? name : 'download'}`).type('text/plain').send('');
  const top = Number(params.get('$top') ?? spec.pageSize);
  const skip = Number(params.get('$skiptoken') ?? 0);
  const end = Math.min(items.length, skip + top);
  const next = end < items.length ? `,"@odata.nextLink":"${base}${path}?$format=application/json&$top=${top}&$skiptoken=${end}"` : '';
  return reply.type('application/json').send(`{"@odata.context":"${base}/beta/$metadata#Collection(microsoft.graph.${spec.jsonType})"${next},"value":[${items.slice(skip, end).join(',')}]}`);
};
app.get('/v1.0/reports/*', report);
app.get('/beta/reports/*', report);
const base = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ url: base, ca: tls.cert, rows: source.count, csvBytes: csvBytes.length })}\n`);
