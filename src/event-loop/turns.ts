/**
 * Long work shares the event loop by time, not by count (issue 18: no event-loop block over 100 ms while the
 * org score of a 300,000-user tenant is computed). Every loop that may run long (a download's chunks, people's
 * facts, kept rows, score tables) asks `turnIsOver()` between small steps and, when the current turn of the
 * event loop has had WORK_MS_PER_TURN of such work, waits for `nextTurn()`. All of them share one budget per turn,
 * so seven downloads and a score table do not each work their own 20 ms in the same turn, and the loops waiting
 * for a turn are resumed one per turn, first come first served.
 *
 * Why time and not a count of rows: a count is tuned on one machine and holds the loop two or three times as long
 * on a slower one or under a collector pause, and yielding after every small step costs CPU (yielding after every
 * 64 KiB of CSV cost about a quarter more CPU end to end in bench/score-scale.ts).
 */

/**
 * Main-thread work (ms) a turn of the event loop may do in cooperating loops before they let it turn. 20 ms leaves
 * room under the 100 ms target for a collector pause and for work that does not cooperate (one request's JSON,
 * a scavenge of 10-30 ms with the image's 16 MB semi-spaces: OPERATIONS.md).
 */
export const WORK_MS_PER_TURN = 20;

/**
 * The budget (ms) while a chain of requests that wait on each other is read (`duringRequestChain`): each link
 * waits for a turn of the event loop, so the chain's pace is the turns' length. At 300,000 users the directory's
 * 300 pages came one per 38 ms beside the reports' validation (turns of 20 ms of work and their I/O) and one per
 * 9-10 ms alone, so the directory finished 0.8-1.7 s after the last report with the loop half idle; with turns of
 * 5 ms while it is read it finished 1.4-2.5 s before it, the same work done sooner (bench/score-scale.ts, two
 * rounds each, interleaved: cold 6.90-8.36 s against 7.19-7.86 s, the longest event-loop block 34-54 ms against
 * 47-52 ms). Not the budget for all work: a lone CSV download spent 5-15% more CPU with 5 ms turns
 * (bench/proxy-vs-forwarding.ts csv-cache-off, three rounds).
 */
export const CHAINED_WORK_MS_PER_TURN = 5;

/** Request chains being read (`duringRequestChain`): while any is, a turn's budget is CHAINED_WORK_MS_PER_TURN. */
let chains = 0;

/** The work a turn may do now (ms). */
function budget(): number {
  return chains > 0 ? CHAINED_WORK_MS_PER_TURN : WORK_MS_PER_TURN;
}

/**
 * Runs `read`, a chain of requests that wait on each other (a paged resource whose next page is known only from
 * the last one), with the turns' budget at CHAINED_WORK_MS_PER_TURN until it settles, so that the chain is not
 * paced by other work's long turns. Resolves or rejects as `read` does.
 */
export async function duringRequestChain<T>(read: () => Promise<T>): Promise<T> {
  chains++;
  try {
    return await read();
  } finally {
    chains--;
  }
}

/** When the current turn's cooperating work began (performance.now(), ms), or undefined between turns. */
let turnStarted: number | undefined;
/** Which turn `turnStarted` belongs to: an end-of-turn mark left over from an earlier turn does not end this one. */
let turn = 0;
/**
 * Set when a turn's budget, begun by work that I/O or a timer woke (not by `resumeOne`), was spent before the
 * event loop reached its immediates: the loops waiting then get the next turn, not a second budget in this one.
 */
let spentByWokenWork = false;
/** Loops waiting for a turn of their own, first come first served. */
const waiting: (() => void)[] = [];

function beginTurn(now: number, resumed: boolean): void {
  turnStarted = now;
  spentByWokenWork = false;
  const mine = ++turn;
  // Immediates run after this turn's I/O callbacks: the next cooperating work found after it is a new turn's.
  setImmediate(() => {
    if (turn !== mine) return;
    if (!resumed && performance.now() - now >= budget()) spentByWokenWork = true;
    turnStarted = undefined;
  });
}

/**
 * Whether this turn of the event loop has had its budget of cooperating work (WORK_MS_PER_TURN, or
 * CHAINED_WORK_MS_PER_TURN while a request chain is read). The first call in a turn
 * starts the turn's clock, unless loops are already waiting: then the caller waits behind them (the turn is
 * theirs), so work that I/O wakes cannot keep them waiting. Cheap (one clock read): call it every few hundred rows.
 */
export function turnIsOver(): boolean {
  const now = performance.now();
  if (turnStarted === undefined) {
    if (waiting.length > 0) return true;
    beginTurn(now, false);
    return false;
  }
  return now - turnStarted >= budget();
}

/**
 * Resolves in a later turn of the event loop, with that turn's budget its own: timers, I/O and other requests
 * run first. Loops waiting together are resumed one per turn, in the order they asked.
 */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => {
    waiting.push(resolve);
    if (waiting.length === 1) setImmediate(resumeOne);
  });
}

function resumeOne(): void {
  // A budget spent in this turn by work that I/O woke (this immediate was set during it): the next turn's.
  if (spentByWokenWork) {
    spentByWokenWork = false;
    setImmediate(resumeOne);
    return;
  }
  beginTurn(performance.now(), true);
  waiting.shift()?.();
  // An immediate set while immediates run waits for the event loop's next turn.
  if (waiting.length > 0) setImmediate(resumeOne);
}

/** `nextTurn()` when `turnIsOver()`; otherwise resolves at once (a microtask). */
export async function letTheLoopTurn(): Promise<void> {
  if (turnIsOver()) await nextTurn();
}

/**
 * Runs a generator of steps (each `yield` a point where the event loop may turn: a few hundred rows of work or
 * less) to its end, letting the loop turn whenever the turn's budget is spent; resolves to its return value.
 */
export async function runSteps<T>(steps: Generator<void, T>): Promise<T> {
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done === true) return step.value;
    if (turnIsOver()) await nextTurn();
  }
}
