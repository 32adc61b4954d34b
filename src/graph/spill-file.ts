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
import { KEY_BYTES, open as openSealed, sealPieces } from '../crypto/aead.js';
import { InternalInvariantError } from '../errors/catalogue.js';

interface RecordPosition {
  readonly position: number;
  readonly length: number;
}

/** A record given in more pieces than this is joined before it is sealed. */
const MAX_PIECES = 64;

export class SpillFile {
  private readonly key = createSecretKey(randomBytes(KEY_BYTES));
  private readonly records: RecordPosition[] = [];
  private size = 0;
  private closed = false;
  /** Settles when every record written so far is on file (rejects if a write failed). */
  private written: Promise<void> = Promise.resolve();

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

  /**
   * Appends a record: the plaintext's pieces joined (sealed piece by piece and written as one vectored write,
   * without copying them into one buffer). Its index and place are taken when called, so a caller may write
   * the next record before this one is on file; reads wait for every write begun before them.
   */
  writeRecord(plain: Buffer | readonly Buffer[]): Promise<void> {
    // Bound to its index: records cannot be swapped or replayed within the file unnoticed.
    // Many small pieces (a download in tiny chunks) are joined first: one cipher call and one buffer each costs more.
    const plainPieces = Buffer.isBuffer(plain) ? [plain] : plain.length > MAX_PIECES ? [Buffer.concat(plain)] : plain;
    const pieces = sealPieces(this.key, 'spill-record', [this.records.length], plainPieces);
    const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
    const position = this.size;
    this.records.push({ position, length });
    this.size += length;
    const write = this.handle.writev(pieces, position).then(({ bytesWritten }) => {
      if (bytesWritten !== length) throw new InternalInvariantError('a snapshot record was written short');
    });
    this.written = Promise.all([this.written, write]).then(() => undefined);
    // A failed write fails this call's promise and every later read: not an unhandled rejection of `written`.
    this.written.catch(() => undefined);
    return write;
  }

  async readRecord(index: number): Promise<Buffer> {
    await this.written;
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
