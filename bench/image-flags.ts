/**
 * The V8 flags the container image runs the proxy with, read from the Dockerfile's `ENV NODE_OPTIONS=...` line,
 * so that every benchmark measures the proxy as it ships and a change to the image's flags reaches them all
 * (bench/score-scale.ts, bench/proxy-rss.ts, bench/proxy-vs-forwarding.ts). Throws when the Dockerfile has no
 * such line: a benchmark must not silently measure under Node's defaults.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Each flag of the image's NODE_OPTIONS, e.g. `['--max-old-space-size=320', '--max-semi-space-size=16']`. */
export function imageNodeFlags(dockerfile = join(import.meta.dirname, '..', 'Dockerfile')): string[] {
  const line = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(readFileSync(dockerfile, 'utf8'));
  if (line === null) throw new Error(`${dockerfile} has no ENV NODE_OPTIONS="..." line: the benchmarks would not measure the image's flags`);
  return line[1]!.split(/\s+/).filter((flag) => flag !== '');
}

/** The value (MB) of one `--name=N` flag of the image, or undefined. */
export function imageFlagMb(flags: readonly string[], name: string): number | undefined {
  const flag = flags.find((f) => f.startsWith(`--${name}=`));
  return flag === undefined ? undefined : Number(flag.slice(name.length + 3));
}
