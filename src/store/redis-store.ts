/**
 * The Redis store, for several replicas: one budget ledger, charged atomically by a Lua script (check the
 * consumer's share, check its limit, record it, and add a release new to the organisation to the organisation's
 * total: no two replicas can both spend the last epsilon), and one score
 * history, and one release book (the first release of an epoch wins on every replica, by a script), and one set of
 * refresh patterns (a hash per report and refresh: each table's hidden and shown hashes packed, appended by a
 * script; a short lock per refresh held across a release's load, suppression and merge). Durability is Redis's: run it with `appendonly yes` and `appendfsync always` (see deploy/).
 */
import { Redis } from 'ioredis';
import { ledgerReleaseId } from './budget-ledger.js';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseScorePoint, parseStoredRelease, StoreCorruptError, type StoredRelease } from './records.js';
import { REDIS_APPEND_ENTRY } from './policy-history.js';
import { checkedHashKey, KEY_LOST, newHashKey, packHidden, packShown, unpackHidden, unpackShown } from './refresh-patterns.js';
import {
  historySince, PATTERN_RETENTION_DAYS, RELEASE_RETENTION_DAYS, type BudgetStore, type Charge, type PolicyHistoryStore, type RefreshAt, type RefreshPatternStore, type ReleaseStore,
  type ScoreHistoryStore, type ScorePoint, type Store, type StoredPattern,
} from './store.js';

// Pays for a release's noisy measures at once (KEYS: the consumer's measures, its spent, the organisation's
// measures, its spent; ARGV: the consumer's limit, the organisation's ('' for none), then id, epsilon pairs).
// A spent value that is not a finite, non-negative number (NaN compares unequal to itself) is refused, never read
// as 0: the script returns -2 (the consumer's) or -3 (the organisation's) and the charge fails closed.
const CHARGE = `
local function amount(key)
  local v = tonumber(redis.call('GET', key) or '0')
  if v == nil or v ~= v or v < 0 or v == math.huge then return nil end
  return v
end
local spent = amount(KEYS[2])
if spent == nil then return {-2, '', ''} end
local org = amount(KEYS[4])
if org == nil then return {-3, '', ''} end
local share, new, fresh = 0, 0, {}
for i = 3, #ARGV, 2 do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 0 then
    local epsilon = tonumber(ARGV[i + 1])
    table.insert(fresh, i)
    share = share + epsilon
    if redis.call('SISMEMBER', KEYS[3], ARGV[i]) == 0 then new = new + epsilon end
  end
end
if #fresh == 0 then return {0, tostring(spent), tostring(org)} end
if spent + share > tonumber(ARGV[1]) + 1e-9 then return {-1, tostring(spent), tostring(org)} end
if ARGV[2] ~= '' and new > 0 and org + new > tonumber(ARGV[2]) + 1e-9 then return {-4, tostring(spent), tostring(org)} end
local total = tostring(spent)
for _, i in ipairs(fresh) do
  redis.call('SADD', KEYS[1], ARGV[i])
  if redis.call('SADD', KEYS[3], ARGV[i]) == 1 then redis.call('INCRBYFLOAT', KEYS[4], ARGV[i + 1]) end
  total = redis.call('INCRBYFLOAT', KEYS[2], ARGV[i + 1])
end
return {1, total, redis.call('GET', KEYS[4]) or '0'}
`;

// The slot's release stays if it is of the same or a later epoch (and still held); otherwise this one becomes it.
// KEYS: the slot's current key, the new release's key; ARGV: epoch, id, release JSON, TTL seconds, release key prefix.
const COMMIT_RELEASE = `
local held = redis.call('GET', KEYS[1])
if held then
  local sep = string.find(held, ' ', 1, true)
  if sep and string.sub(held, 1, sep - 1) >= ARGV[1] then
    local kept = redis.call('GET', ARGV[5] .. string.sub(held, sep + 1))
    if kept then return kept end
  end
end
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2], 'EX', ARGV[4])
return ARGV[3]
`;

const RELEASE_TTL_SECONDS = RELEASE_RETENTION_DAYS * 86_400;

// Appends packed hashes to a refresh's hash fields (a union: repeats are dropped when read) and keeps the hash until
// its expiry. KEYS: the refresh's hash; ARGV: the expiry (Unix seconds), then field, bytes pairs.
const MERGE_PATTERNS = `
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], (redis.call('HGET', KEYS[1], ARGV[i]) or '') .. ARGV[i + 1])
end
redis.call('EXPIREAT', KEYS[1], ARGV[1])
return 1
`;

// Frees a refresh's lock if this holder still has it. KEYS: the lock; ARGV: the holder's token.
const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

// Extends a refresh's lock if this holder still has it. KEYS: the lock; ARGV: the holder's token, milliseconds.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/**
 * How long a refresh's lock lasts unless renewed: its holder renews it every third of this while the release is
 * made (a cold release of a big tenant downloads and aggregates for 10-16 s: deploy/OPERATIONS.md), so a replica
 * that dies holding it frees it after this.
 */
export const PATTERN_LOCK_MS = 30_000;
/**
 * How long a release waits for a refresh's lock before it is refused (fail closed: no release without the patterns).
 * Computed releases of one refresh run one after another across replicas, and a big tenant's cold release takes
 * 10-40 s (README's issue-18 figures), so several tools' first requests of a refresh may queue for minutes; a holder
 * that dies frees the lock after PATTERN_LOCK_MS, so waiting long never waits for nobody.
 */
export const PATTERN_LOCK_WAIT_MS = 300_000;

/** A hash field of a refresh's patterns: which cells ('hidden' or 'shown') of which window and table. */
function patternField(kind: 'hidden' | 'shown', window: string, table: string): string {
  return JSON.stringify([kind, window, table]);
}

/** A refresh's hash read back (field -> packed hashes) as its patterns; StoreCorruptError (naming `key`) on a bad field or value. */
function parsePatternHash(key: string, fields: Record<string, Buffer>): StoredPattern[] {
  const tables = new Map<string, { window: string; table: string; hidden: Uint32Array; shown: Float64Array }>();
  for (const [field, bytes] of Object.entries(fields)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(field);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || parsed.length !== 3 || (parsed[0] !== 'hidden' && parsed[0] !== 'shown') || typeof parsed[1] !== 'string' || typeof parsed[2] !== 'string') {
      throw new StoreCorruptError(`${key} field ${field.slice(0, 64)}`, 'is not a pattern field (["hidden" or "shown", window, table])');
    }
    const [kind, window, table] = parsed as ['hidden' | 'shown', string, string];
    const name = JSON.stringify([window, table]);
    const kept = tables.get(name) ?? { window, table, hidden: new Uint32Array(0), shown: new Float64Array(0) };
    const where = `${key} field ${field}`;
    tables.set(name, kind === 'hidden' ? { ...kept, hidden: unpackHidden(bytes, where) } : { ...kept, shown: unpackShown(bytes, where) });
  }
  return [...tables.values()];
}

export class RedisStore implements Store {
  readonly kind = 'redis';
  readonly budget: BudgetStore;
  readonly history: ScoreHistoryStore;
  readonly policyHistory: PolicyHistoryStore;
  readonly releases: ReleaseStore;
  readonly refreshPatterns: RefreshPatternStore;

  private constructor(
    /** The connection, also lent to the rate limiter so replicas share its counters. */
    readonly redis: Redis,
    prefix: string,
  ) {
    const year = (now: Date) => now.getUTCFullYear();
    const spentKey = (consumer: string, y: number) => `${prefix}:budget:spent:${consumer}:${y}`;
    const organisationKey = (what: 'releases' | 'spent', y: number) => `${prefix}:budget:organisation:${what}:${y}`;
    this.budget = {
      charge(consumer, release, epsilon, limit, now = new Date()): Promise<Charge> {
        return this.chargeMeasures(consumer, [{ id: release, epsilon }], { consumer: limit }, now);
      },
      async chargeMeasures(consumer, measures, limits, now = new Date()): Promise<Charge> {
        const y = year(now);
        const fresh = new Map<string, number>();
        for (const m of measures) {
          const id = ledgerReleaseId(m.id, y);
          fresh.set(id, Math.max(fresh.get(id) ?? 0, m.epsilon));
        }
        const pairs = [...fresh].flatMap(([id, epsilon]) => [id, String(epsilon)]);
        const [outcome, spent, organisation] = (await redis.eval(
          CHARGE, 4, `${prefix}:budget:releases:${consumer}:${y}`, spentKey(consumer, y), organisationKey('releases', y), organisationKey('spent', y),
          String(limits.consumer), limits.organisation === undefined ? '' : String(limits.organisation), ...pairs,
        )) as [number, string, string];
        if (outcome === -2) throw new StoreCorruptError(spentKey(consumer, y), 'not a finite, non-negative amount spent');
        if (outcome === -3) throw new StoreCorruptError(organisationKey('spent', y), 'not a finite, non-negative amount spent');
        const amount = parseSpent(spent, spentKey(consumer, y));
        const organisationSpent = parseSpent(organisation, organisationKey('spent', y));
        if (outcome === -1) return { ok: false, spent: amount, limit: limits.consumer, organisationSpent, refusedBy: 'consumer' };
        if (outcome === -4) return { ok: false, spent: amount, limit: limits.organisation!, organisationSpent, refusedBy: 'organisation' };
        return { ok: true, charged: outcome === 1, spent: amount, organisationSpent };
      },
      async spent(consumer, y = new Date().getUTCFullYear()) {
        const key = spentKey(consumer, y);
        return parseSpent((await redis.get(key)) ?? '0', key);
      },
      async organisationSpent(y = new Date().getUTCFullYear()) {
        const key = organisationKey('spent', y);
        return parseSpent((await redis.get(key)) ?? '0', key);
      },
    };
    this.history = {
      async record(point: ScorePoint) {
        await redis.hset(`${prefix}:history:${point.period}`, point.refreshDate, JSON.stringify(point));
      },
      async series(period, now = new Date()) {
        const since = historySince(now);
        const key = `${prefix}:history:${period}`;
        const points = Object.entries(await redis.hgetall(key)).map(([field, value]) => parseHistoryField(key, field, value));
        return points.filter((p) => p.refreshDate >= since).sort((a, b) => a.refreshDate.localeCompare(b.refreshDate));
      },
    };
    const releaseKey = (id: string) => `${prefix}:releases:release:${id}`;
    const currentKey = (slot: string) => `${prefix}:releases:current:${slot}`;
    const servedKey = (consumer: string, slot: string) => `${prefix}:releases:served:${consumer}:${slot}`;
    const readRelease = async (id: string): Promise<StoredRelease | undefined> => {
      const text = await redis.get(releaseKey(id));
      return text === null ? undefined : parseStoredRelease(text, releaseKey(id));
    };
    this.releases = {
      async current(slot) {
        const held = await redis.get(currentKey(slot));
        return held === null ? undefined : readRelease(held.slice(held.indexOf(' ') + 1));
      },
      async commit(release) {
        const kept = (await redis.eval(COMMIT_RELEASE, 2, currentKey(release.slot), releaseKey(release.id), release.epoch, release.id, JSON.stringify(release), String(RELEASE_TTL_SECONDS), `${prefix}:releases:release:`)) as string;
        return parseStoredRelease(kept, currentKey(release.slot));
      },
      async lastServed(consumer, slot) {
        const id = await redis.get(servedKey(consumer, slot));
        return id === null ? undefined : readRelease(id);
      },
      async served(consumer, release) {
        // The release may have left its slot meanwhile (a later epoch committed): it is kept as long as it is pointed at.
        await redis.multi().set(releaseKey(release.id), JSON.stringify(release), 'EX', RELEASE_TTL_SECONDS).set(servedKey(consumer, release.slot), release.id, 'EX', RELEASE_TTL_SECONDS).exec();
      },
    };
    const patternsKey = (at: RefreshAt) => `${prefix}:patterns:${at.refreshDate}:${at.source}`;
    this.refreshPatterns = {
      async load(at) {
        const key = patternsKey(at);
        return parsePatternHash(key, await redis.hgetallBuffer(key));
      },
      async merge(at, patterns) {
        const pairs = patterns.flatMap((p) => [
          ...(p.hidden.length > 0 ? [patternField('hidden', p.window, p.table), packHidden(p.hidden)] : []),
          ...(p.shown.length > 0 ? [patternField('shown', p.window, p.table), packShown(p.shown)] : []),
        ]);
        if (pairs.length === 0) return;
        const expiry = Math.max(Math.floor(Date.parse(`${at.refreshDate}T00:00:00Z`) / 1000) + PATTERN_RETENTION_DAYS * 86_400, Math.floor(Date.now() / 1000) + 86_400);
        await redis.eval(MERGE_PATTERNS, 1, patternsKey(at), String(expiry), ...pairs);
      },
      async hashKey() {
        const key = `${prefix}:patterns-hash-key`;
        // The first replica to ask makes it; every other one reads that one. None is made beside kept patterns (a
        // replica merges only after it read the key, so none can be merged between the scan and the SET).
        if ((await redis.exists(key)) === 0) {
          if (await anyKey(redis, `${globbed(prefix)}:patterns:*`)) throw new StoreCorruptError(key, KEY_LOST);
          await redis.set(key, newHashKey(), 'NX');
        }
        const stored = await redis.get(key);
        if (stored === null) throw new StoreCorruptError(key, 'vanished right after it was set');
        return checkedHashKey(stored, key);
      },
      async exclusive(at, run) {
        const lock = `${prefix}:patterns-lock:${at.refreshDate}:${at.source}`;
        const token = randomBytes(16).toString('hex');
        const until = Date.now() + PATTERN_LOCK_WAIT_MS;
        while ((await redis.set(lock, token, 'PX', PATTERN_LOCK_MS, 'NX')) !== 'OK') {
          if (Date.now() > until) throw new Error(`the patterns of ${at.source}'s refresh of ${at.refreshDate} stayed locked by another replica for ${PATTERN_LOCK_WAIT_MS} ms; no release is made without them`);
          await sleep(20);
        }
        const renewal = setInterval(() => void redis.eval(RENEW, 1, lock, token, String(PATTERN_LOCK_MS)).catch(() => undefined), PATTERN_LOCK_MS / 3);
        let held: unknown;
        let result: Awaited<ReturnType<typeof run>>;
        try {
          result = await run();
        } finally {
          clearInterval(renewal);
          held = await redis.eval(UNLOCK, 1, lock, token);
        }
        // Lost while the release was made (its holder stalled past PATTERN_LOCK_MS, Redis restarted or flushed):
        // another replica may have made one of the refresh beside it, from patterns without this one's (red team:
        // test/redteam/patterns-lock-lost.test.ts). Its own pattern is merged (more hiding only); it is refused.
        if (held !== 1) throw new Error(`the lock on the patterns of ${at.source}'s refresh of ${at.refreshDate} was lost while a release was made (held past ${PATTERN_LOCK_MS} ms without renewal, or Redis restarted); no release is made without them`);
        return result;
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

  /**
   * Connects (failing fast with a clear error when Redis is not there), then checks every budget and history
   * record under `prefix`: one that does not match its schema refuses the store (`StoreCorruptError`, naming
   * the key), as the embedded store refuses a bad line.
   */
  static async connect(url: string, prefix = 'gpp'): Promise<RedisStore> {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false, connectTimeout: 5000 });
    redis.on('error', () => {}); // reported through the failing call and readiness, not as an unhandled event
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new Error(`cannot reach Redis at the configured URL (${(error as Error).message.replace(/redis:\/\/[^@\s]*@/g, 'redis://***@')})`);
    }
    try {
      await verifyRecords(redis, prefix);
    } catch (error) {
      redis.disconnect();
      throw error;
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

/** A stored amount spent: a plain decimal (INCRBYFLOAT's form), finite and non-negative. */
function parseSpent(text: string, key: string): number {
  const value = /^\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value)) throw new StoreCorruptError(key, `'${text.slice(0, 32)}' is not a finite, non-negative amount spent`);
  return value;
}

function parseHistoryField(key: string, field: string, value: string): ScorePoint {
  const where = `${key} field ${field}`;
  const point = parseScorePoint(value, where);
  if (point.refreshDate !== field || `${key.slice(key.lastIndexOf(':') + 1)}` !== point.period) throw new StoreCorruptError(where, `holds the point of ${point.refreshDate} ${point.period}`);
  return point;
}

/** Every budget and history key under the prefix, checked once at connect (SCAN: never blocks Redis). */
/** `text` as a literal in a SCAN MATCH pattern. */
const globbed = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

/** Whether any key matches `match` (SCAN: never blocks Redis). */
async function anyKey(redis: Redis, match: string): Promise<boolean> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
    if (keys.length > 0) return true;
    cursor = next;
  } while (cursor !== '0');
  return false;
}

async function verifyRecords(redis: Redis, prefix: string): Promise<void> {
  for (const pattern of [`${globbed(prefix)}:budget:*`, `${globbed(prefix)}:history:*`, `${globbed(prefix)}:releases:*`, `${globbed(prefix)}:patterns:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      for (const key of keys) await verifyKey(redis, prefix, key);
    } while (cursor !== '0');
  }
}

async function verifyKey(redis: Redis, prefix: string, key: string): Promise<void> {
  const type = await redis.type(key);
  if (type === 'none') return; // expired since the scan
  const rest = key.slice(prefix.length + 1);
  const expect = (wanted: string) => {
    if (type !== wanted) throw new StoreCorruptError(key, `is a Redis ${type}, not a ${wanted}`);
  };
  if (/^budget:spent:.+:\d{4}$/.test(rest) || /^budget:organisation:spent:\d{4}$/.test(rest)) {
    expect('string');
    parseSpent((await redis.get(key)) ?? '', key);
  } else if (/^budget:releases:.+:\d{4}$/.test(rest) || /^budget:organisation:releases:\d{4}$/.test(rest)) {
    expect('set');
    let cursor = '0';
    do {
      const [next, members] = await redis.sscan(key, cursor, 'COUNT', 1000);
      cursor = next;
      const bad = members.find((m) => !/^[0-9a-f]{64}$/.test(m));
      if (bad !== undefined) throw new StoreCorruptError(key, `holds '${bad.slice(0, 32)}', which is not a release digest`);
    } while (cursor !== '0');
  } else if (/^releases:release:[0-9a-f]{64}$/.test(rest)) {
    expect('string');
    const text = await redis.get(key);
    if (text === null) return; // expired since the scan
    const release = parseStoredRelease(text, key);
    if (!rest.endsWith(release.id)) throw new StoreCorruptError(key, `holds release ${release.id}`);
  } else if (/^releases:current:[0-9a-f]{64}$/.test(rest)) {
    expect('string');
    if (!/^(\d{4}-\d{2}-\d{2}|-) [0-9a-f]{64}$/.test((await redis.get(key)) ?? '')) throw new StoreCorruptError(key, 'is not an epoch and a release id');
  } else if (/^releases:served:.+:[0-9a-f]{64}$/.test(rest)) {
    expect('string');
    if (!/^[0-9a-f]{64}$/.test((await redis.get(key)) ?? '')) throw new StoreCorruptError(key, 'is not a release id');
  } else if (/^patterns:\d{4}-\d{2}-\d{2}:[^ ]+$/.test(rest)) {
    expect('hash');
    parsePatternHash(key, await redis.hgetallBuffer(key));
  } else if (/^history:(D7|D30|D90|D180)$/.test(rest)) {
    expect('hash');
    for (const [field, value] of Object.entries(await redis.hgetall(key))) parseHistoryField(key, field, value);
  } else {
    throw new StoreCorruptError(key, 'is not a key this proxy writes');
  }
}
