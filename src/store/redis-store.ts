/**
 * The Redis store, for several replicas: one budget ledger, charged atomically by a Lua script (check the
 * release, check the limit, record, add: no two replicas can both spend the last epsilon), and one score
 * history. Durability is Redis's: run it with `appendonly yes` and `appendfsync always` (see deploy/).
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Charge } from './budget-ledger.js';
import { REDIS_APPEND_ENTRY, type PolicyHistoryStore } from './policy-history.js';
import type { ScorePoint } from './score-history.js';
import { historySince, type BudgetStore, type ScoreHistoryStore, type Store } from './store.js';

const CHARGE = `
local spent = tonumber(redis.call('GET', KEYS[2]) or '0')
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return {0, tostring(spent)} end
if spent + tonumber(ARGV[2]) > tonumber(ARGV[3]) + 1e-9 then return {-1, tostring(spent)} end
redis.call('SADD', KEYS[1], ARGV[1])
return {1, redis.call('INCRBYFLOAT', KEYS[2], ARGV[2])}
`;

export class RedisStore implements Store {
  readonly kind = 'redis';
  readonly budget: BudgetStore;
  readonly history: ScoreHistoryStore;
  readonly policyHistory: PolicyHistoryStore;

  private constructor(
    /** The connection, also lent to the rate limiter so replicas share its counters. */
    readonly redis: Redis,
    prefix: string,
  ) {
    const year = (now: Date) => now.getUTCFullYear();
    const spentKey = (consumer: string, y: number) => `${prefix}:budget:spent:${consumer}:${y}`;
    this.budget = {
      async charge(consumer, release, epsilon, limit, now = new Date()): Promise<Charge> {
        const y = year(now);
        const releaseId = createHash('sha256').update(`${consumer}\u0000${y}\u0000${release}`).digest('hex');
        const [outcome, spent] = (await redis.eval(CHARGE, 2, `${prefix}:budget:releases:${consumer}:${y}`, spentKey(consumer, y), releaseId, String(epsilon), String(limit))) as [number, string];
        if (outcome === -1) return { ok: false, spent: Number(spent), limit };
        return { ok: true, charged: outcome === 1, spent: Number(spent) };
      },
      async spent(consumer, y = new Date().getUTCFullYear()) {
        return Number((await redis.get(spentKey(consumer, y))) ?? 0);
      },
    };
    this.history = {
      async record(point: ScorePoint) {
        await redis.hset(`${prefix}:history:${point.period}`, point.refreshDate, JSON.stringify(point));
      },
      async series(period, now = new Date()) {
        const since = historySince(now);
        const values = await redis.hvals(`${prefix}:history:${period}`);
        return values.map((v) => JSON.parse(v) as ScorePoint).filter((p) => p.refreshDate >= since).sort((a, b) => a.refreshDate.localeCompare(b.refreshDate));
      },
    };
    const policyKey = `${prefix}:policy-history`;
    this.policyHistory = {
      lines: () => redis.lrange(policyKey, 0, -1),
      async append(line, previous, genesis) {
        return (await redis.eval(REDIS_APPEND_ENTRY, 1, policyKey, line, previous, genesis)) === 1;
      },
    };
  }

  /** Connects (failing fast with a clear error when Redis is not there). */
  static async connect(url: string, prefix = 'gpp'): Promise<RedisStore> {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false, connectTimeout: 5000 });
    redis.on('error', () => {}); // reported through the failing call and readiness, not as an unhandled event
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new Error(`cannot reach Redis at the configured URL (${(error as Error).message.replace(/redis:\/\/[^@\s]*@/g, 'redis://***@')})`);
    }
    return new RedisStore(redis, prefix);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
