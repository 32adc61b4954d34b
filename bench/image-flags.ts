/**
 * The V8 flags the container image runs the proxy with, read from the Dockerfile: its `ENV NODE_OPTIONS="..."` line
 * (the flags Node takes from the environment) and the flags its `ENTRYPOINT ["node", ...]` gives before the script
 * (V8 flags Node refuses in NODE_OPTIONS, such as `--heap-growing-percent`), so that every benchmark measures the
 * proxy as it ships and a change to the image's flags reaches them all (bench/score-scale.ts, bench/proxy-rss.ts,
 * bench/proxy-vs-forwarding.ts). Throws when the Dockerfile has no NODE_OPTIONS line: a benchmark must not
 * silently measure under Node's defaults.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Each flag of the image, NODE_OPTIONS' then the entrypoint's, e.g. `['--max-old-space-size=320',
 * '--max-semi-space-size=16', '--heap-growing-percent=100']` (all of them given as arguments, as the benchmarks do).
 */
export function imageNodeFlags(dockerfile = join(import.meta.dirname, '..', 'Dockerfile')): string[] {
  const { nodeOptions, entrypoint } = imageStart(dockerfile);
  return [...nodeOptions.split(/\s+/).filter((flag) => flag !== ''), ...entrypoint];
}

/**
 * How the image starts Node: its NODE_OPTIONS (the environment variable's value) and the flags its entrypoint
 * gives before the script (test/build.test.ts starts the built proxy so, which Node refuses if a flag is not
 * allowed where it is given). Throws as imageNodeFlags does.
 */
export function imageStart(dockerfile = join(import.meta.dirname, '..', 'Dockerfile')): { nodeOptions: string; entrypoint: string[] } {
  const text = readFileSync(dockerfile, 'utf8');
  const line = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(text);
  if (line === null) throw new Error(`${dockerfile} has no ENV NODE_OPTIONS="..." line: the benchmarks would not measure the image's flags`);
  return { nodeOptions: line[1]!, entrypoint: entrypointFlags(dockerfile, text) };
}

/**
 * The flags before the script of the last `ENTRYPOINT [..., "node", "--flag", ..., "script"]` line (Docker uses
 * the last), in `--name=value` form; none without an ENTRYPOINT. Throws on one not in JSON form or without
 * `node`: its flags could not be read, and the benchmarks would measure without them.
 */
function entrypointFlags(dockerfile: string, text: string): string[] {
  const lines = [...text.matchAll(/^ENTRYPOINT (.*)$/gm)];
  if (lines.length === 0) return [];
  let words: unknown;
  try {
    words = JSON.parse(lines.at(-1)![1]!);
  } catch {
    words = undefined;
  }
  if (!Array.isArray(words) || !words.every((word) => typeof word === 'string')) throw new Error(`${dockerfile}: ENTRYPOINT is not in JSON form (["node", ...]), so its flags cannot be read`);
  const node = (words as string[]).findIndex((word) => word === 'node' || word.endsWith('/node'));
  if (node === -1) throw new Error(`${dockerfile}: ENTRYPOINT does not start node, so its flags cannot be read`);
  const flags: string[] = [];
  for (const word of (words as string[]).slice(node + 1)) {
    if (!word.startsWith('--')) break;
    flags.push(word);
  }
  return flags;
}

/** The value (MB) of one `--name=N` flag of the image, or undefined. */
export function imageFlagMb(flags: readonly string[], name: string): number | undefined {
  const flag = flags.find((f) => f.startsWith(`--${name}=`));
  return flag === undefined ? undefined : Number(flag.slice(name.length + 3));
}
