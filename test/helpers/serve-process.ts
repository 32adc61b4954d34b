/**
 * `graph-privacy-proxy serve` as a real child process, for tests about processes (two serves on one state,
 * a corrupt store, a mounted policy layout, configuration refused at start-up): its settings as variables,
 * its stdout and stderr captured, and a wait for either "listening" or its exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashConsumerKey } from '../../src/server/consumer-keys.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { testTls } from './proxy-stack.js';

export interface ServeProcess {
  readonly child: ChildProcess;
  /** The proxy's URL once it listens; undefined when it exited first. */
  readonly url: string | undefined;
  /** Its exit code when it exited before listening. */
  readonly exitCode: number | null;
  stdout(): string;
  stderr(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export const SERVE_KEY = 'gpp_serve-process-test-key-00000000000000000000000';

/** A directory with a certificate and key, and the variables a `serve` needs against `sim` (state under `dir/state`). */
export async function serveEnv(sim: RunningSimulator, extra: Record<string, string> = {}): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gpp-serve-proc-'));
  const tls = await testTls();
  await writeFile(join(dir, 'cert.pem'), tls.cert);
  await writeFile(join(dir, 'key.pem'), tls.key);
  await writeFile(join(dir, 'authority-ca.pem'), sim.authorityCa);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '', GPP_PORT: '0', GPP_HOST: '127.0.0.1',
    GPP_CONSUMER_KEYS: `adoption-dashboard=sha256:${hashConsumerKey(SERVE_KEY)}`,
    GPP_SEAL_SECRET: Buffer.alloc(32, 6).toString('base64'), GPP_NOISE_KEY: Buffer.alloc(32, 8).toString('base64'),
    GPP_PSEUDONYM_KEYS: `licence-tool=${Buffer.alloc(32, 4).toString('base64')}`,
    GPP_TLS_CERT_FILE: join(dir, 'cert.pem'), GPP_TLS_KEY_FILE: join(dir, 'key.pem'), GPP_GRAPH_URL: sim.graphUrl, GPP_TOKEN_URL: sim.entraTokenUrl, GPP_AUTHORITY_CA_FILE: join(dir, 'authority-ca.pem'),
    GPP_CLIENT_ID: sim.clientId, GPP_CLIENT_SECRET: sim.clientSecret, GPP_DOWNLOAD_HOSTS: `${sim.downloadUrl}/data/`,
    GPP_BUDGET_LEDGER_FILE: join(dir, 'state', 'ledger.jsonl'), GPP_SCORE_HISTORY_FILE: join(dir, 'state', 'history.jsonl'),
    ...extra,
  };
  return { dir, env };
}

/** Starts `serve` and resolves when it listens or exits (at most `timeoutMs`). */
export async function startServe(env: Record<string, string>, timeoutMs = 60_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const until = Date.now() + timeoutMs;
  let exitCode: number | null = null;
  let done = false;
  void exited.then((code) => {
    exitCode = code;
    done = true;
  });
  while (!done && !/listening at (\S+),/.test(out)) {
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`serve neither listened nor exited within ${timeoutMs} ms: ${err.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const url = /listening at (\S+),/.exec(out)?.[1];
  return {
    child,
    url,
    get exitCode() {
      return exitCode;
    },
    stdout: () => out,
    stderr: () => err,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}
