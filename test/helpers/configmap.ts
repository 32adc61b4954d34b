/** A policy directory laid out on disk exactly as the kubelet mounts a ConfigMap, and its atomic update. */
import { mkdir, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

let generation = 0;

/**
 * Writes `files` as the kubelet does: a fresh `..<timestamp>/` with the files, `..data_tmp -> it` renamed over
 * `..data` (the atomic swap), each `name -> ..data/name`, and the previous timestamped directory removed.
 * Called again on the same `dir`, it is a ConfigMap update; names no longer present lose their link.
 */
export async function configMapLayout(dir: string, files: Record<string, string>): Promise<void> {
  generation++;
  const stamp = `..2026_11_30_10_00_${String(generation).padStart(2, '0')}.${process.pid}`;
  await mkdir(join(dir, stamp), { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, stamp, name), text);
  await symlink(stamp, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  const entries = await readdir(dir);
  for (const name of Object.keys(files)) if (!entries.includes(name)) await symlink(join('..data', name), join(dir, name));
  for (const name of entries) {
    if (name.startsWith('..') && name !== '..data' && name !== stamp) await rm(join(dir, name), { recursive: true, force: true });
    else if (!name.startsWith('.') && !(name in files)) await rm(join(dir, name), { force: true });
  }
}
