/**
 * Report snapshots shared between replicas through Redis, so that each report is fetched from Graph once
 * between them (Graph allows about 14 CSV downloads per report per 10 minutes per app). Each record is
 * encrypted at rest with AES-256-GCM under a key the replicas share (derived from the sealing secret) and
 * expires with the snapshot; a lock (SET NX PX) lets one replica fetch while the others wait for its copy.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface SharedSnapshotMeta {
  readonly count: number;
  readonly itemStarts: readonly number[];
  readonly records: number;
}

export interface SharedSnapshots {
  /** Another replica's copy: its meta, and its records read a few at a time (a large report never sits in memory). */
  get(key: string): Promise<{ meta: SharedSnapshotMeta; records: AsyncIterable<Buffer> } | undefined>;
  put(key: string, meta: SharedSnapshotMeta, records: AsyncIterable<Buffer>, ttlMs: number): Promise<void>;
  /** Tries to become the one replica that fetches `key`; true when this one should fetch. */
  lock(key: string, ttlMs: number): Promise<boolean>;
  unlock(key: string): Promise<void>;
}

/** Records read from Redis per round trip (64 KB each). */
const READ_BATCH = 16;

export class RedisSharedSnapshots implements SharedSnapshots {
  private readonly key: Buffer;

  /** Over the Redis store's connection (its owner closes it); `secret` is the replicas' shared sealing secret. */
  constructor(
    private readonly redis: Redis,
    secret: Buffer,
    private readonly prefix = 'gpp',
  ) {
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.from('graph-privacy-proxy/shared-snapshots/v1'), Buffer.alloc(0), 32));
  }

  private name(key: string, part: string): string {
    return `${this.prefix}:snapshot:${Buffer.from(key).toString('base64url')}:${part}`;
  }

  private seal(index: number, plain: Buffer): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(String(index)));
    return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  }

  private open(index: number, sealed: Buffer): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12));
    decipher.setAAD(Buffer.from(String(index)));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
  }

  async get(key: string): Promise<{ meta: SharedSnapshotMeta; records: AsyncIterable<Buffer> } | undefined> {
    const metaText = await this.redis.get(this.name(key, 'meta'));
    if (metaText === null) return undefined;
    const meta = JSON.parse(metaText) as SharedSnapshotMeta;
    const read = async function* (this: RedisSharedSnapshots): AsyncGenerator<Buffer> {
      for (let start = 0; start < meta.records; start += READ_BATCH) {
        const names = Array.from({ length: Math.min(READ_BATCH, meta.records - start) }, (_, i) => this.name(key, `r${start + i}`));
        const sealed = await this.redis.mgetBuffer(...names);
        for (const [i, record] of sealed.entries()) {
          if (record === null) throw new Error('the shared snapshot expired while it was being read');
          yield this.open(start + i, record);
        }
      }
    };
    return { meta, records: read.call(this) };
  }

  async put(key: string, meta: SharedSnapshotMeta, records: AsyncIterable<Buffer>, ttlMs: number): Promise<void> {
    const multi = this.redis.multi();
    let index = 0;
    for await (const record of records) {
      multi.set(this.name(key, `r${index}`), this.seal(index, record), 'PX', ttlMs);
      index++;
    }
    // The meta goes last: a reader that sees it finds every record.
    multi.set(this.name(key, 'meta'), JSON.stringify({ ...meta, records: index }), 'PX', ttlMs);
    await multi.exec();
  }

  async lock(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.name(key, 'lock'), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  async unlock(key: string): Promise<void> {
    await this.redis.del(this.name(key, 'lock'));
  }
}
