/**
 * Report snapshots shared between replicas through Redis, so that each report is fetched from Graph once
 * between them (Graph allows about 14 CSV downloads per report per 10 minutes per app). Each record is
 * encrypted at rest with AES-256-GCM under a key the replicas share (derived from the sealing secret) and
 * expires with the snapshot, and bound to its snapshot key and index as associated data (a record moved into
 * another snapshot, or to another place in it, fails authentication). A lock (SET NX PX) holding a random owner
 * token lets one replica fetch while the others wait for its copy; only its owner can delete it (compare and
 * delete in Lua), so a replica whose lock expired mid-fetch never frees another's.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
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
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.from('graph-privacy-proxy/shared-snapshots/v2'), Buffer.alloc(0), 32));
  }

  private name(key: string, part: string): string {
    return `${this.prefix}:snapshot:${Buffer.from(key).toString('base64url')}:${part}`;
  }

  /** The associated data of record `index` of snapshot `key`: both, length-delimited. */
  private aad(key: string, index: number): Buffer {
    return Buffer.from(`${key.length}\u0000${key}\u0000${index}`);
  }

  private seal(key: string, index: number, plain: Buffer): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(this.aad(key, index));
    return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  }

  private open(key: string, index: number, sealed: Buffer): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12));
    decipher.setAAD(this.aad(key, index));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
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
          yield this.open(key, start + i, record);
        }
      }
    };
    return { meta, records: read.call(this) };
  }

  async put(key: string, meta: SharedSnapshotMeta, records: AsyncIterable<Buffer>, ttlMs: number): Promise<void> {
    let multi = this.redis.multi();
    let index = 0;
    for await (const record of records) {
      multi.set(this.name(key, `r${index}`), this.seal(key, index, record), 'PX', ttlMs);
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
