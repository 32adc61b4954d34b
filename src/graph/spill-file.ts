/**
 * An encrypted, anonymous scratch file for raw report snapshots: opened and unlinked at once (no name on disk
 * while it lives), written as sealed records (src/crypto/aead.ts: AES-256-GCM, each bound to its index) under a
 * key that exists only in this process's memory, read back record by record with positional reads. Raw report
 * bytes therefore never rest on disk in clear and vanish with the process; nothing written here outlives it,
 * so the record format can change between versions freely.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { KEY_BYTES, open as openSealed, seal } from '../crypto/aead.js';
import { InternalInvariantError } from '../errors/catalogue.js';

interface RecordPosition {
  readonly position: number;
  readonly length: number;
}

export class SpillFile {
  private readonly key = createSecretKey(randomBytes(KEY_BYTES));
  private readonly records: RecordPosition[] = [];
  private size = 0;
  private closed = false;

  private constructor(private readonly handle: FileHandle) {}

  static async create(dir: string): Promise<SpillFile> {
    const path = join(dir, `gpp-snapshot-${randomBytes(12).toString('hex')}.bin`);
    const handle = await open(path, 'wx+', 0o600);
    await unlink(path);
    return new SpillFile(handle);
  }

  get recordCount(): number {
    return this.records.length;
  }

  /** Bytes on disk (sealed records: ciphertext and each record's version, nonce and tag). */
  get bytes(): number {
    return this.size;
  }

  async writeRecord(plain: Buffer): Promise<void> {
    // Bound to its index: records cannot be swapped or replayed within the file unnoticed.
    const sealed = seal(this.key, 'spill-record', [this.records.length], plain);
    await this.handle.write(sealed, 0, sealed.length, this.size);
    this.records.push({ position: this.size, length: sealed.length });
    this.size += sealed.length;
  }

  async readRecord(index: number): Promise<Buffer> {
    const record = this.records[index];
    if (record === undefined || this.closed) throw new InternalInvariantError(`snapshot record ${index} is not available`);
    const sealed = Buffer.allocUnsafe(record.length);
    const { bytesRead } = await this.handle.read(sealed, 0, record.length, record.position);
    if (bytesRead !== record.length) throw new InternalInvariantError('the snapshot file is shorter than written');
    return openSealed(this.key, 'spill-record', [index], sealed);
  }

  async *readAll(): AsyncGenerator<Buffer> {
    for (let i = 0; i < this.records.length; i++) yield await this.readRecord(i);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}
