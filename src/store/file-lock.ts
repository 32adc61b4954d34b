/**
 * An exclusive lock on a state file, so that two processes never replay and append to one ledger (each would
 * keep its own total and together spend twice the budget). The lock is a file `<path>.lock` created with
 * O_EXCL holding `{pid, host, token}`; its holder touches it every few seconds. A lock is stale, and is taken
 * over, when its holder is a process on this host that no longer runs, or when it has not been touched for
 * `staleMs` (a holder on another host that died, e.g. with its node). Take-over is compare-and-swap: the stale
 * file is renamed aside and checked to be the one judged stale before a new lock is created.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { ProductError } from '../errors/catalogue.js';

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
}

/** Another live process holds the lock. */
export class StoreLockedError extends ProductError<'StoreLockedError'> {
  readonly code = 'StoreLockedError';
  constructor(
    readonly file: string,
    readonly owner: string,
  ) {
    super(`${file} is locked by ${owner}: another graph-privacy-proxy process uses the same state. Run one replica on embedded state (or use Redis for several); if that process is gone, delete ${file}.lock`);
    this.name = 'StoreLockedError';
  }
}

/** Lock files this process holds: a second open in the same process is refused like another process's. */
const held = new Set<string>();

export interface FileLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, but not ours to signal
  }
}

async function readOwner(lockFile: string): Promise<{ text: string; owner: LockOwner | undefined; ageMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)]);
    let owner: LockOwner | undefined;
    try {
      const value = JSON.parse(text) as Partial<LockOwner>;
      if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.token === 'string') owner = value as LockOwner;
    } catch {
      // a lock file torn by a crash while it was being written: judged by its age alone
    }
    return { text, owner, ageMs: Date.now() - info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Takes the lock on `file` (creating `file.lock`) or throws `StoreLockedError` naming the holder.
 * `staleMs` (default 30 s) must exceed `heartbeatMs` (default 5 s) several times over.
 */
export async function lockFile(file: string, options: { staleMs?: number; heartbeatMs?: number } = {}): Promise<FileLock> {
  const staleMs = options.staleMs ?? 30_000;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const lockPath = `${file}.lock`;
  if (held.has(lockPath)) throw new StoreLockedError(file, `this process (pid ${process.pid})`);
  const me: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(16).toString('hex') };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.writeFile(JSON.stringify(me));
      await handle.sync();
      await handle.close();
      held.add(lockPath);
      const timer = setInterval(() => {
        const now = new Date();
        utimes(lockPath, now, now).catch(() => {});
      }, heartbeatMs);
      timer.unref();
      return {
        async release() {
          clearInterval(timer);
          held.delete(lockPath);
          const current = await readOwner(lockPath);
          if (current?.owner?.token === me.token) await unlink(lockPath).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const found = await readOwner(lockPath);
    if (found === undefined) continue; // released in the meantime
    const { owner, ageMs } = found;
    // Same host: the pid says it (our own pid in the file is a previous incarnation, e.g. pid 1 in a container).
    const stale = owner !== undefined && owner.host === me.host ? owner.pid === process.pid || !alive(owner.pid) : ageMs > staleMs;
    if (!stale) throw new StoreLockedError(file, owner === undefined ? 'an unreadable lock' : `pid ${owner.pid} on ${owner.host}`);
    const aside = `${lockPath}.stale-${me.token}`;
    try {
      await rename(lockPath, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if ((await readFile(aside, 'utf8').catch(() => '')) !== found.text) {
      // Someone took the lock between our read and our rename: put theirs back and look again.
      await link(aside, lockPath).catch(() => {});
    }
    await unlink(aside).catch(() => {});
  }
  throw new StoreLockedError(file, 'a process that keeps taking it');
}
