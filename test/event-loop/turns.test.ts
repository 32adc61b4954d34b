/**
 * The event loop's shared time budget (src/event-loop/turns.ts): long loops stop when the turn has had its
 * WORK_MS_PER_TURN of their work, timers and I/O run between turns, and loops waiting together take turns one
 * at a time. Work is counted in steps that each spin for a known time, so the bounds are on work per turn, not on
 * how fast this machine is.
 */
import { readFile } from 'node:fs';
import t from 'tap';
import { CHAINED_WORK_MS_PER_TURN, duringRequestChain, letTheLoopTurn, nextTurn, runSteps, turnIsOver, WORK_MS_PER_TURN } from '../../src/event-loop/turns.js';

/** Spins the main thread for `ms` (the step's work). */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Numbers the event loop's turns: each immediate ends one (a check phase per turn). */
function turnCounter(): { readonly current: () => number; readonly stop: () => void } {
  let turn = 0;
  let stopped = false;
  const tick = () => {
    turn++;
    if (!stopped) setImmediate(tick);
  };
  setImmediate(tick);
  return { current: () => turn, stop: () => (stopped = true) };
}

const STEP_MS = 2;

t.test('a turn ends after WORK_MS_PER_TURN of work; letTheLoopTurn then waits for another; a later turn starts its own clock', async (t) => {
  const immediate = () => new Promise((resolve) => setImmediate(resolve));
  // Decisions are taken first and asserted after, so that the assertions' own time is not counted as work.
  await immediate();
  await immediate();
  const first = turnIsOver();
  spin(WORK_MS_PER_TURN + 1);
  const spent = turnIsOver();
  let turned = false;
  setImmediate(() => (turned = true));
  await letTheLoopTurn();
  const waited = turned;
  spin(WORK_MS_PER_TURN + 1);
  const spentAgain = turnIsOver();
  // Two turns later, reached without nextTurn: the spent clock was cleared, the first look starts a new one.
  await immediate();
  await immediate();
  const later = turnIsOver();
  t.notOk(first, 'the first look in a turn starts its clock');
  t.ok(spent, 'the whole budget spent');
  t.ok(waited, 'letTheLoopTurn waited for the event loop to turn');
  t.ok(spentAgain, 'the next budget spent too');
  t.notOk(later, 'a later turn reached without nextTurn starts its own clock at its first look');
});

t.test('work that I/O wakes and the loops it then leaves waiting share one budget in a turn: a timer runs between them', async (t) => {
  const budgetSteps = Math.ceil(WORK_MS_PER_TURN / STEP_MS);
  let steps = 0;
  let most = 0;
  const ticker = setInterval(() => {
    most = Math.max(most, steps);
    steps = 0;
  }, 1);
  const loop = async (count: number) => {
    for (let i = 0; i < count; i++) {
      await letTheLoopTurn();
      spin(STEP_MS);
      steps++;
    }
  };
  // Started from an I/O callback (the poll phase), as a download woken by its socket is.
  await new Promise<void>((resolve, reject) => readFile(import.meta.filename, (error) => (error ? reject(error) : loop(40).then(resolve, reject))));
  clearInterval(ticker);
  most = Math.max(most, steps);
  t.ok(most <= budgetSteps + 2, `at most ${most} steps of ${STEP_MS} ms between two runs of a 1 ms timer (budget ${budgetSteps})`);
});

t.test('loops sharing the loop: at most the budget and one step each per turn; a timer set during the work runs before it ends', async (t) => {
  const turns = turnCounter();
  const stepsByTurn = new Map<number, { steps: number; loops: Set<string> }>();
  let timerFiredAfter: number | undefined;
  let stepsDone = 0;
  await nextTurn();
  setTimeout(() => (timerFiredAfter = stepsDone), 0);
  const loop = async (name: string, steps: number) => {
    for (let i = 0; i < steps; i++) {
      spin(STEP_MS);
      stepsDone++;
      const turn = turns.current();
      const seen = stepsByTurn.get(turn) ?? { steps: 0, loops: new Set<string>() };
      seen.steps++;
      seen.loops.add(name);
      stepsByTurn.set(turn, seen);
      await letTheLoopTurn();
    }
  };
  await Promise.all([loop('a', 60), loop('b', 60), loop('c', 60)]);
  turns.stop();
  const perTurn = [...stepsByTurn.values()];
  const budgetSteps = Math.ceil(WORK_MS_PER_TURN / STEP_MS);
  t.ok(perTurn.length >= Math.floor((3 * 60) / (budgetSteps + 3)), `the work took ${perTurn.length} turns`);
  t.equal(perTurn.filter((turn) => turn.steps > budgetSteps + turn.loops.size).length, 0, `no turn did more than ${budgetSteps} steps of ${STEP_MS} ms and one more per loop`);
  t.ok(timerFiredAfter !== undefined && timerFiredAfter < 3 * 60, `the timer ran while the loops still had work (after ${timerFiredAfter} of 180 steps)`);
  // Resumed one per turn: after the first turn (where every loop starts), each turn works for one loop only.
  t.equal(perTurn.slice(1).filter((turn) => turn.loops.size > 1).length, 0, 'waiting loops are resumed one per turn');
});

t.test('runSteps runs a generator to its end, turning the loop when the budget is spent, and gives its value', async (t) => {
  const turns = turnCounter();
  function* steps(): Generator<void, string> {
    for (let i = 0; i < 40; i++) {
      spin(STEP_MS);
      yield;
    }
    return 'done';
  }
  const before = turns.current();
  t.equal(await runSteps(steps()), 'done');
  turns.stop();
  t.ok(turns.current() - before >= 3, `80 ms of steps spread over ${turns.current() - before} turns`);
  function* none(): Generator<void, number> {
    return 7;
  }
  t.equal(await runSteps(none()), 7, 'a generator without steps');
});

t.test('while a request chain is read, a turn has the shorter budget; before and after it, the usual one; a chain that fails restores it', async (t) => {
  /** The most steps of STEP_MS one turn did while a loop of `steps` steps ran, its chain still pending or not. */
  const mostPerTurn = async (steps: number): Promise<number> => {
    const turns = turnCounter();
    const byTurn = new Map<number, number>();
    await nextTurn();
    for (let i = 0; i < steps; i++) {
      await letTheLoopTurn();
      spin(STEP_MS);
      byTurn.set(turns.current(), (byTurn.get(turns.current()) ?? 0) + 1);
    }
    turns.stop();
    return Math.max(...byTurn.values());
  };
  const usual = Math.ceil(WORK_MS_PER_TURN / STEP_MS);
  const chained = Math.ceil(CHAINED_WORK_MS_PER_TURN / STEP_MS);
  t.ok(chained < usual, `the chained budget (${chained} steps) is below the usual one (${usual})`);
  const before = await mostPerTurn(30);
  t.ok(before > chained + 1, `before: up to ${before} steps a turn`);
  let release!: () => void;
  const chain = duringRequestChain(() => new Promise<string>((resolve) => (release = () => resolve('read'))));
  const during = await mostPerTurn(30);
  t.ok(during <= chained + 1, `while the chain is read: at most ${during} steps a turn (budget ${chained})`);
  release();
  t.equal(await chain, 'read', "the chain's value");
  const after = await mostPerTurn(30);
  t.ok(after > chained + 1, `after: up to ${after} steps a turn again`);
  await t.rejects(duringRequestChain(() => Promise.reject(new Error('page failed'))), { message: 'page failed' }, "a failed chain's error");
  const afterFailure = await mostPerTurn(30);
  t.ok(afterFailure > chained + 1, `after a failed chain: up to ${afterFailure} steps a turn`);
});
