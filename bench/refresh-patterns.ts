/**
 * Benchmark: a refresh's patterns in the Store (store.ts RefreshPatternStore), the largest table the in-memory
 * bound is sized for (6,000 departments x 30 offices: 180,000 cells, a third hidden). For each store it times a
 * release's load of the refresh's patterns and the merge of a first release's hashes and of a second release adding
 * 1% more, and prints the bytes kept (Redis: MEMORY USAGE of the refresh's hash; embedded: the file's size).
 * Needs redis-server on PATH or at /usr/bin/redis-server for the Redis half.
 * Run: node --import tsx bench/refresh-patterns.ts
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEmbeddedStore } from '../src/store/embedded-store.js';
import { RedisStore } from '../src/store/redis-store.js';
import type { RefreshAt, Store, StoredPattern } from '../src/store/store.js';

const CELLS = 180_000;
const AT: RefreshAt = { source: 'getTeamsUserActivityUserDetail', refreshDate: new Date().toISOString().slice(0, 10) };

/** `n` distinct pseudo-random hashes below `limit` from `seed`, ascending. */
function hashes(n: number, seed: number, limit: number): number[] {
  const out = new Set<number>();
  let x = seed;
  while (out.size < n) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    out.add(limit > 2 ** 32 ? x * 2 ** 21 + (x & 0x1fffff) : x);
  }
  return [...out].sort((a, b) => a - b);
}

const first: StoredPattern = { window: 'D30', table: '', hidden: Uint32Array.from(hashes(CELLS / 3, 1, 2 ** 32)), shown: Float64Array.from(hashes((CELLS * 2) / 3, 2, 2 ** 53)) };
const more: StoredPattern = { window: 'D30', table: '', hidden: Uint32Array.from(hashes(CELLS / 100, 3, 2 ** 32)), shown: new Float64Array(0) };

async function measure(name: string, store: Store, bytes: () => Promise<number>): Promise<void> {
  const time = async (what: () => Promise<unknown>) => {
    const start = process.hrtime.bigint();
    await what();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const merged = await time(() => store.refreshPatterns.merge(AT, [first]));
  const added = await time(() => store.refreshPatterns.merge(AT, [more]));
  let loaded = 0;
  for (let i = 0; i < 5; i++) loaded += await time(() => store.refreshPatterns.load(AT));
  const locked = await time(() => store.refreshPatterns.exclusive(AT, async () => undefined));
  console.log(`${name}: ${CELLS} cells (${first.hidden.length} hidden, ${first.shown.length} shown): merge ${merged.toFixed(1)} ms, merge of 1% more ${added.toFixed(1)} ms, load ${(loaded / 5).toFixed(1)} ms, empty lock ${locked.toFixed(2)} ms, ${(await bytes() / 1e6).toFixed(2)} MB kept`);
}

const dir = await mkdtemp(join(tmpdir(), 'gpp-bench-patterns-'));
const embedded = await openEmbeddedStore({ ledgerFile: join(dir, 'ledger.jsonl'), historyFile: join(dir, 'history.jsonl') });
await measure('embedded', embedded, async () => (await stat(join(dir, 'refresh-patterns.jsonl'))).size);
await embedded.close();

const server = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
if (server === undefined) {
  console.log('redis: redis-server not found, skipped');
} else {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const child = spawn(server, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], { stdio: 'ignore' });
  try {
    let store: RedisStore | undefined;
    for (let i = 0; store === undefined; i++) {
      store = await RedisStore.connect(`redis://127.0.0.1:${port}`, 'bench').catch(async (error: unknown) => {
        if (i > 50) throw error;
        await sleep(100);
        return undefined;
      });
    }
    const redis = store;
    await measure('redis', redis, async () => (await redis.redis.memory('USAGE', `bench:patterns:${AT.refreshDate}:${AT.source}`)) ?? 0);
    await redis.close();
  } finally {
    child.kill('SIGTERM');
  }
}
