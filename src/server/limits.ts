/**
 * Rate limits per consumer (@fastify/rate-limit) and overload shedding (@fastify/under-pressure), both answered
 * like Graph: 429 (or 503) with Retry-After and a Graph-shaped body, through the one error mapper. Requests are
 * counted per consumer (by key), per address for invalid keys or none; probes are never limited.
 */
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { CONFIG_SCHEMA } from './config.js';
import type { ConsumerKeys } from './consumer-keys.js';
import { ProxyRefusal, sendError } from './errors.js';

export interface LimitSettings {
  /** Requests per consumer per minute (default: GPP_RATE_LIMIT_PER_MINUTE's). */
  readonly perMinute?: number;
  /** Shed load when the event loop lags more than this (default 1000 ms). */
  readonly maxEventLoopDelayMs?: number;
  /** How often the event-loop delay is sampled (default 1000 ms). */
  readonly sampleIntervalMs?: number;
  /** Count in Redis, so that replicas share one limit per consumer. */
  readonly redis?: Redis;
  /** The Redis key prefix (GPP_REDIS_PREFIX, and its default): counters live under `<prefix>:ratelimit:`. */
  readonly redisPrefix?: string;
}

// /metrics is not exempt: it takes a token, so guesses at it are counted like any request.
const PROBES = new Set(['/healthz', '/readyz']);

function rateKey(request: FastifyRequest, keys: ConsumerKeys): string {
  const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(request.headers.authorization ?? '');
  if (m === null) return `address:${request.ip}`;
  const consumer = keys.consumerFor(m[1]!);
  return consumer === undefined ? `invalid:${request.ip}` : `consumer:${consumer}`;
}

/** Registers both plugins on the root app, before any route (their hooks then cover every route). */
export function registerLimits(app: FastifyInstance, keys: ConsumerKeys, settings: LimitSettings = {}): void {
  void app.register(rateLimit, {
    global: true,
    max: settings.perMinute ?? CONFIG_SCHEMA.properties.rateLimitPerMinute.default,
    timeWindow: 60_000,
    hook: 'onRequest',
    ...(settings.redis !== undefined ? { redis: settings.redis, nameSpace: `${settings.redisPrefix ?? CONFIG_SCHEMA.properties.redisPrefix.default}:ratelimit:` } : {}),
    keyGenerator: (request) => rateKey(request, keys),
    allowList: (request) => PROBES.has(request.url.split('?')[0]!),
    errorResponseBuilder: (_request, context) =>
      new ProxyRefusal(429, 'TooManyRequests', `Too many requests: at most ${context.max} a minute for each consumer. Try again in ${context.after}.`, Math.max(1, Math.ceil(context.ttl / 1000))),
  });
  void app.register(underPressure, {
    maxEventLoopDelay: settings.maxEventLoopDelayMs ?? 1000,
    sampleInterval: settings.sampleIntervalMs ?? 1000,
    pressureHandler: (_request, reply) => {
      void sendError(reply, { status: 503, code: 'ServiceUnavailable', message: 'The proxy is overloaded; try again shortly.', retryAfterSeconds: 5 });
    },
  });
}
