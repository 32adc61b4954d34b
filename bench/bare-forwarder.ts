/**
 * The baseline of bench/proxy-vs-forwarding.ts: bare @fastify/http-proxy forwarding over HTTPS to an upstream,
 * in its own process. Prints `listening <url>` when ready.  Run: node --import tsx bench/bare-forwarder.ts <upstream>
 */
import httpProxy from '@fastify/http-proxy';
import fastify from 'fastify';
import { selfSignedCertificate } from '../src/server/tls.js';

const upstream = process.argv[2];
if (upstream === undefined) throw new Error('usage: bare-forwarder.ts <upstream url>');
const tls = await selfSignedCertificate(1);
const app = fastify({ logger: false, https: { key: tls.key, cert: tls.cert } });
await app.register(httpProxy, { upstream });
process.stdout.write(`listening ${await app.listen({ host: '127.0.0.1', port: 0 })}\n`);
