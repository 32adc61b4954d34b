/**
 * A minimal stand-in for Graph that serves given report bytes (the real-graph cases in test/fixtures), for tests
 * that must feed the proxy exactly what a real tenant returned: /admin/reportSettings, /users
 * from a directory file, and every report path answered with Graph's 302 to a download path on the same host (or, with
 * `$format=application/json`, with one JSON page made from the same CSV).
 * It is independent of the simulator on purpose: the cases show what the simulator did not know.
 */
import { parse } from 'csv-parse/sync';
import Fastify from 'fastify';
import { findColumn, findReport } from '../../src/catalogue/catalogue.js';
import { fromCsvText, toJsonValue } from '../../src/catalogue/values.js';
import { startSimulator } from '../../src/simulator/server.js';
import type { TenantEndpoints } from './proxy-stack.js';

/** Entra ID for a Graph double: the simulator's HTTPS login host (the double itself accepts any bearer token). */
export interface DoubleEntra {
  readonly entraTokenUrl: string;
  readonly authorityCa: string;
  readonly clientId: string;
  readonly clientSecret: string;
  close(): Promise<void>;
}

/** A one-user simulated tenant whose login host issues the proxy's tokens; the double answers the reports. */
export async function startDoubleEntra(): Promise<DoubleEntra> {
  const sim = await startSimulator({ users: 1, enforceGraphLimits: false });
  return { entraTokenUrl: sim.entraTokenUrl, authorityCa: sim.authorityCa, clientId: sim.clientId, clientSecret: sim.clientSecret, close: () => sim.close() };
}

/** One JSON page of a flat report's CSV bytes, as Graph's beta JSON writes it (unknown columns dropped). */
function jsonPage(name: string, csv: Buffer): { value: Record<string, unknown>[] } {
  const report = findReport(name)!;
  const records = parse(csv, { bom: true, columns: true }) as Record<string, string>[];
  return {
    value: records.map((record) => Object.fromEntries(Object.entries(record).flatMap(([header, text]) => {
      const column = findColumn(report, header);
      return column === undefined || column.only === 'csv' ? [] : [[column.json, toJsonValue(column, fromCsvText(column, text))]];
    }))),
  };
}

export interface GraphDoubleOptions {
  /**
   * CSV bytes (BOM and line ends as given) by report function name, or by the call itself (`name(period='D7')`)
   * for a window whose data differ from the report's other windows.
   */
  readonly reports: Readonly<Record<string, Buffer>>;
  /** Graph's /users answer (`{ value: [...] }`). */
  readonly directory?: unknown;
  readonly concealedNames?: boolean;
  /** Answers report requests itself when it returns a response (an upstream failure to replay). */
  readonly answer?: (call: string) => { status: number; body?: unknown; headers?: Record<string, string> } | undefined;
}

export interface GraphDouble extends TenantEndpoints {
  /** Report requests seen, as `name(arguments)`. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startGraphDouble(options: GraphDoubleOptions): Promise<GraphDouble> {
  const app = Fastify({ logger: false });
  const requests: string[] = [];
  app.get('/v1.0/admin/reportSettings', async () => ({ displayConcealedNames: options.concealedNames ?? false }));
  app.get('/v1.0/users', async () => options.directory ?? { value: [] });
  const report = async (request: { url: string }, reply: import('fastify').FastifyReply) => {
    const call = decodeURIComponent(request.url.split('?')[0]!.split('/').pop()!);
    requests.push(call);
    const scripted = options.answer?.(call);
    if (scripted !== undefined) {
      reply.code(scripted.status).headers(scripted.headers ?? {});
      return scripted.body === undefined ? reply.send() : reply.type('application/json').send(JSON.stringify(scripted.body));
    }
    const name = options.reports[call] !== undefined ? call : call.replace(/\(.*$/s, '');
    if (options.reports[name] === undefined) {
      return reply.code(400).send({ error: { code: 'BadRequest', message: `Resource not found for the segment '${name}'.` } });
    }
    if (/\$format=application(\/|%2F)json/i.test(request.url)) return reply.type('application/json').send(jsonPage(name.replace(/\(.*$/s, ''), options.reports[name]));
    return reply.code(302).header('location', `${base}/download/${encodeURIComponent(name)}`).type('text/plain').send('');
  };
  app.get('/v1.0/reports/*', report);
  app.get('/beta/reports/*', report);
  app.get('/download/:name', async (request, reply) => {
    const body = options.reports[(request.params as { name: string }).name];
    return body === undefined ? reply.code(404).send() : reply.type('application/octet-stream').send(body);
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const entra = await startDoubleEntra();
  return {
    graphUrl: base,
    entraTokenUrl: entra.entraTokenUrl,
    authorityCa: entra.authorityCa,
    clientId: entra.clientId,
    clientSecret: entra.clientSecret,
    downloadUrl: `${base}/download/`,
    requests,
    close: async () => {
      await app.close();
      await entra.close();
    },
  };
}
