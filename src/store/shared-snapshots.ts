/**
 * Report snapshots shared between replicas through Redis, so that each report is fetched from Graph once
 * between them (Graph allows about 14 CSV downloads per report per 10 minutes per app). Each record is sealed
 * (src/crypto/aead.ts: AES-256-GCM) under a key the replicas share (derived from the sealing secret), bound to
 * its snapshot key and index (a record moved into another snapshot, or to another place in it, fails to open),
 * and expires with the snapshot. The records are a cache, not state: a copy written before the versioned
 * envelope (this proxy's versions until issue 14) does not open, so replicas sharing one Redis are upgraded
 * together, or run with GPP_SNAPSHOT_TTL_SECONDS=0 (no sharing) while old and new run side by side; any old copy
 * is gone one TTL later. A later envelope version is told apart by its version byte. A lock (SET NX PX) holding a random owner
 * token lets one replica fetch while the others wait for its copy; only its owner can delete it (compare and
 * delete in Lua), so a replica whose lock expired mid-fetch never frees another's.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { deriveKey, open, seal } from '../crypto/aead.js';
import { parseSnapshotMeta } from './records.js';

export interface SharedSnapshotMeta {
  readonly count: number;
  readonly itemStarts: readonly number[];
  readonly records: number;
}

export interface SharedSnapshots {
  /** Another replica's copy: its meta, and its records read a few at a time (a large report never sits in memory). */
  get(key: string): Promise<{ meta: SharedSnapshotMeta; records: AsyncIterable<Buffer> } | undefined>;
  put(key: string, meta: SharedSnapshotMeta, records: AsyncIterable<Buffer>, ttlMs: number): Promise<void>;
  /** Tries to become the one replica that fetches `key`: its owner token when this one should fetch, else undefined. */
  lock(key: string, ttlMs: number): Promise<string | undefined>;
  /** Releases the lock if `token` still owns it (it may have expired and been taken by another replica). */
  unlock(key: string, token: string): Promise<void>;
}

/** Records read from Redis per round trip (64 KB each). */
const READ_BATCH = 16;
/** Records per MULTI when writing: one transaction for a whole report would sit in memory and block Redis. */
const WRITE_BATCH = 256;

const COMPARE_AND_DELETE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class RedisSharedSnapshots implements SharedSnapshots {
  private readonly key: Buffer;

  /** Over the Redis store's connection (its owner closes it); `secret` is the replicas' shared sealing secret. */
  constructor(
    private readonly redis: Redis,
    secret: Buffer,
    private readonly prefix = 'gpp',
  ) {
    this.key = deriveKey(secret, 'graph-privacy-proxy/shared-snapshots/v3');
  }

  private name(key: string, part: string): string {
    return `${this.prefix}:snapshot:${Buffer.from(key).toString('base64url')}:${part}`;
  }

  async get(key: string): Promise<{ meta: SharedSnapshotMeta; records: AsyncIterable<Buffer> } | undefined> {
    const metaText = await this.redis.get(this.name(key, 'meta'));
    if (metaText === null) return undefined;
    const meta = parseSnapshotMeta(metaText, this.name(key, 'meta'));
    const read = async function* (this: RedisSharedSnapshots): AsyncGenerator<Buffer> {
      for (let start = 0; start < meta.records; start += READ_BATCH) {
        const names = Array.from({ length: Math.min(READ_BATCH, meta.records - start) }, (_, i) => this.name(key, `r${start + i}`));
        const sealed = await this.redis.mgetBuffer(...names);
        for (const [i, record] of sealed.entries()) {
          if (record === null) throw new Error('the shared snapshot expired while it was being read');
          yield open(this.key, 'shared-snapshot-record', [key, start + i], record);
        }
      }
    };
    return { meta, records: read.call(this) };
  }

  async put(key: string, meta: SharedSnapshotMeta, records: AsyncIterable<Buffer>, ttlMs: number): Promise<void> {
    let multi = this.redis.multi();
    let index = 0;
    for await (const record of records) {
      multi.set(this.name(key, `r${index}`), seal(this.key, 'shared-snapshot-record', [key, index], record), 'PX', ttlMs);
      index++;
      if (index % WRITE_BATCH === 0) {
        await execOrThrow(multi);
        multi = this.redis.multi();
      }
    }
    // The meta goes last, after every batch: a reader that sees it finds every record.
    multi.set(this.name(key, 'meta'), JSON.stringify({ ...meta, records: index }), 'PX', ttlMs);
    await execOrThrow(multi);
  }

  async lock(key: string, ttlMs: number): Promise<string | undefined> {
    const token = randomBytes(16).toString('hex');
    return (await this.redis.set(this.name(key, 'lock'), token, 'PX', ttlMs, 'NX')) === 'OK' ? token : undefined;
  }

  async unlock(key: string, token: string): Promise<void> {
    await this.redis.eval(COMPARE_AND_DELETE, 1, this.name(key, 'lock'), token);
  }
}

/** Runs a MULTI; a command that failed inside it is an error, not a silently missing record. */
async function execOrThrow(multi: ReturnType<Redis['multi']>): Promise<void> {
  const results = await multi.exec();
  if (results === null) throw new Error('a shared snapshot write was aborted by Redis');
  for (const [error] of results) if (error !== null) throw error;
}
