/**
 * An encrypted, anonymous scratch file for raw report snapshots: opened and unlinked at once (no name on disk
 * while it lives), written as AES-256-GCM records under a key that exists only in this process's memory, read
 * back record by record with positional reads. Raw report bytes therefore never rest on disk in clear and
 * vanish with the process.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const TAG_BYTES = 16;

interface RecordPosition {
  readonly position: number;
  readonly length: number;
}

export class SpillFile {
  private readonly key = randomBytes(32);
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

  /** Bytes on disk (ciphertext and tags). */
  get bytes(): number {
    return this.size;
  }

  async writeRecord(plain: Buffer): Promise<void> {
    const cipher = createCipheriv('aes-256-gcm', this.key, this.nonce(this.records.length));
    const sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    await this.handle.write(sealed, 0, sealed.length, this.size);
    this.records.push({ position: this.size, length: sealed.length });
    this.size += sealed.length;
  }

  async readRecord(index: number): Promise<Buffer> {
    const record = this.records[index];
    if (record === undefined || this.closed) throw new Error(`snapshot record ${index} is not available`);
    const sealed = Buffer.allocUnsafe(record.length);
    const { bytesRead } = await this.handle.read(sealed, 0, record.length, record.position);
    if (bytesRead !== record.length) throw new Error('the snapshot file is shorter than written');
    const decipher = createDecipheriv('aes-256-gcm', this.key, this.nonce(index));
    decipher.setAuthTag(sealed.subarray(record.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(0, record.length - TAG_BYTES)), decipher.final()]);
  }

  async *readAll(): AsyncGenerator<Buffer> {
    for (let i = 0; i < this.records.length; i++) yield await this.readRecord(i);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  /** A record's nonce is its index: unique per key, and records cannot be swapped unnoticed. */
  private nonce(index: number): Buffer {
    const nonce = Buffer.alloc(12);
    nonce.writeUInt32BE(index, 8);
    return nonce;
  }
}
