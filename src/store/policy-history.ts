/**
 * Where the policy history's entries live: one JSON line per activated policy set, appended only. The
 * embedded kind is an fsync'd file; the Redis kind a list appended by a Lua script. Both append only when the
 * chain's last entry is still the one the writer saw, so two replicas never fork the chain. What an entry
 * holds and how the chain is verified is src/policy/history.ts's; this module stores lines.
 */
import { mkdir, readFile, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppendOnlyFile } from './append-only-file.js';
import type { PolicyHistoryStore } from './store.js';

/** The `hash` field of a stored line, or undefined when the line is not an entry. */
export function lineHash(line: string | undefined): string | undefined {
  if (line === undefined) return undefined;
  try {
    const hash = (JSON.parse(line) as { hash?: unknown }).hash;
    return typeof hash === 'string' ? hash : undefined;
  } catch {
    return undefined;
  }
}

export class PolicyHistoryFile implements PolicyHistoryStore {
  private readonly stored: string[];

  private constructor(private readonly file: AppendOnlyFile) {
    this.stored = file.lines.filter((l) => l !== '');
  }

  /**
   * Opens (creating) the file. A final line without its newline is the torn end of a write a crash cut
   * short (the append had not returned, so nobody was told it was recorded): it is cut off before appending,
   * so the next entry starts on a line of its own.
   */
  static async open(path: string): Promise<PolicyHistoryFile> {
    await mkdir(dirname(path), { recursive: true });
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== '' && !text.endsWith('\n')) await truncate(path, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
    return new PolicyHistoryFile(await AppendOnlyFile.open(path));
  }

  async lines(): Promise<string[]> {
    return [...this.stored];
  }

  append(line: string, previous: string, genesis: string): Promise<boolean> {
    return this.file.serially(async (write) => {
      const last = this.stored.at(-1);
      if ((last === undefined ? genesis : (lineHash(last) ?? '')) !== previous) return false;
      await write(line);
      this.stored.push(line);
      return true;
    });
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

/** Reads a history file without opening it for appending (the CLI, while a proxy may be running). */
export async function readPolicyHistoryFile(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  return text.split('\n').filter((l) => l !== '');
}

/** Appends to a Redis list only if its last entry's hash is still ARGV[2] (atomic: replicas cannot fork the chain). */
export const REDIS_APPEND_ENTRY = `
local last = redis.call('LINDEX', KEYS[1], -1)
local lastHash = ARGV[3]
if last then
  local ok, entry = pcall(cjson.decode, last)
  if ok and type(entry) == 'table' and type(entry.hash) == 'string' then lastHash = entry.hash else lastHash = '' end
end
if lastHash ~= ARGV[2] then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
`;
