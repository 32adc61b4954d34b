/**
 * A stand-in for Graph that serves pre-generated report bytes from memory (benchmarks only): the simulator's
 * rows are rendered once at start, so serving a JSON page or a CSV download costs a memory copy and the proxy,
 * not the row generator, is what a benchmark measures. HTTPS on 127.0.0.1; prints one JSON line
 * `{ "url", "ca" }` on stdout when listening. Any bearer token is accepted (Graph's checks are not measured;
 * tokens come from the simulator's Entra ID).
 * Run: node --import tsx bench/stand-in-graph.ts [users]
 */
import Fastify from 'fastify';
import { findReport } from '../src/catalogue/catalogue.js';
import { UTF8_BOM } from '../src/catalogue/csv.js';
import { ReportRenderer } from '../src/simulator/render.js';
import { LAST_DAY, reportSource } from '../src/simulator/reports.js';
import { SimulatedTenant } from '../src/simulator/tenant.js';
import { selfSignedCertificate } from '../src/server/tls.js';

const users = Number(process.argv[2] ?? 10_000);
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

const tls = await selfSignedCertificate(1);
const app = Fastify({ logger: false, https: { key: tls.key, cert: tls.cert } });
app.get('/v1.0/admin/reportSettings', async () => ({ displayConcealedNames: false }));
app.get('/v1.0/users', async () => ({ value: [] }));
app.get('/data/download', async (_request, reply) => reply.type('application/octet-stream').send(csvBytes));
const report = async (request: { url: string }, reply: import('fastify').FastifyReply) => {
  const [path = '', query = ''] = request.url.split('?');
  const params = new URLSearchParams(query);
  if (params.get('$format') !== 'application/json') return reply.code(302).header('location', `${base}/data/download`).type('text/plain').send('');
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
