/** A real redis-server for tests, on a free port in a temporary directory, stopped by the caller. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_SERVER = '/usr/bin/redis-server';
export const redisAvailable = existsSync(REDIS_SERVER);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts redis-server (append-only file fsync'd on every write); `on` restarts one on an earlier dir and port. */
export async function startRedis(on?: { dir: string; port: number }): Promise<{ url: string; dir: string; port: number; process: ChildProcess; stop(): Promise<void> }> {
  const dir = on?.dir ?? (await mkdtemp(join(tmpdir(), 'gpp-redis-')));
  const port = on?.port ?? (await freePort());
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const until = Date.now() + 10_000;
  while (!out.includes('Ready to accept connections')) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`redis-server did not start: ${out.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    dir,
    port,
    process: child,
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}
