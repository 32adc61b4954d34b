/**
 * Names what the proxy's longest event-loop turns ran (issue 18: no uninterrupted work over ~50 ms). Reads a V8
 * CPU profile of the proxy (`--cpu-prof`, e.g. through bench/score-scale.ts's GPP_BENCH_NODE_ARGS) and the turns
 * bench/score-scale.ts printed with GPP_BENCH_TURNS_MS (`turn <ms> ms CPU, monotonic <from> <to> us`), and prints
 * for each turn in the profile's span the functions its samples were in (the innermost of ours, with its caller),
 * then the same summed over all those turns. Sample counts: the profile samples about every millisecond.
 *
 * Run: GPP_BENCH_TURNS_MS=40 GPP_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" node --import tsx bench/score-scale.ts
 *        --rounds 1 300000 2> turns.log
 *      node --import tsx bench/turns-in-profile.ts DIR/<profile>.cpuprofile turns.log
 */
import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

const [profileFile, turnsFile] = process.argv.slice(2);
if (profileFile === undefined || turnsFile === undefined) {
  console.error('usage: node --import tsx bench/turns-in-profile.ts <profile.cpuprofile> <turns log>');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as Profile;
const turns = [...readFileSync(turnsFile, 'utf8').matchAll(/^turn (\d+) ms CPU, monotonic (\d+) (\d+) us$/gm)].map((m) => ({ ms: Number(m[1]), from: Number(m[2]), to: Number(m[3]) }));

const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
const nameOf = (id: number): string => {
  const { functionName, url } = nodes.get(id)!.callFrame;
  return `${functionName || '(anonymous)'} ${url.replace(/^.*?\/(src|bench|node_modules)\//, '$1/')}`.trim();
};
/** A sample's innermost frame of ours (src/) with its caller, or its innermost frame (the collector, idle). */
const where = (id: number): string => {
  const path: string[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) path.push(nameOf(at));
  const ours = path.findIndex((frame) => frame.includes(' src/'));
  return ours === -1 ? path[0]! : path.slice(ours, ours + 2).join(' < ');
};
const times: number[] = [];
let time = profile.startTime;
for (const delta of profile.timeDeltas) times.push((time += delta));

const overall = new Map<string, number>();
let inSpan = 0;
for (const turn of turns) {
  if (turn.from < profile.startTime || turn.to > profile.endTime) continue;
  inSpan++;
  const counts = new Map<string, number>();
  times.forEach((at, i) => {
    if (at < turn.from || at > turn.to) return;
    const key = where(profile.samples[i]!);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    overall.set(key, (overall.get(key) ?? 0) + 1);
  });
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([key, n]) => `${n} ${key}`);
  console.log(`turn of ${turn.ms} ms CPU: ${top.join(' | ')}`);
}
console.log(`\n${inSpan} of ${turns.length} turns fall in the profile; samples summed over them:`);
for (const [key, n] of [...overall].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${String(n).padStart(6)} ${key}`);
