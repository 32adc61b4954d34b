/**
 * DirectoryPins (cohort/sources.ts): one directory per refresh date, and the score's several dates joined to the
 * pin of its linked report's date. The source is a directory that changes between reads, as Graph's does.
 */
import t from 'tap';
import { Directory } from '../../src/cohort/directory.js';
import { DirectoryPins, type DirectoryLookup } from '../../src/cohort/sources.js';

/** A directory source whose next read sees `department` for p@contoso.com; counts its reads. */
function changingSource() {
  const state = { department: 'DeptA', reads: 0, fail: false };
  const source: DirectoryLookup = {
    current: async () => {
      state.reads++;
      if (state.fail) throw new Error('Graph is down');
      return new Directory([{ userPrincipalName: 'p@contoso.com', department: state.department }]);
    },
  };
  return { state, source };
}

const departmentOf = (d: Directory) => d.valueOf('p@contoso.com', 'department');

t.test('a refresh date keeps the directory first read for it', async (t) => {
  const { state, source } = changingSource();
  const pins = new DirectoryPins(source);
  const first = await pins.forData('2026-11-29');
  state.department = 'DeptB';
  t.equal(await pins.forData('2026-11-29'), first, 'the same directory for the same date after a move');
  t.equal(departmentOf(await pins.forData('2026-11-30')), 'DeptB', 'a new date reads the directory anew');
  t.equal(departmentOf(await pins.forData(null)), 'DeptB', 'an empty report (no date) reads the current directory');
  t.equal(state.reads, 3);
});

t.test('dates joined alongside take the anchor date\'s directory where they have none', async (t) => {
  const { state, source } = changingSource();
  const pins = new DirectoryPins(source);
  // The score: Teams data of the 29th (anchor), Office 365 active users of the 28th.
  const score = await pins.forData('2026-11-29', ['2026-11-28', '2026-11-29', null]);
  state.department = 'DeptB';
  t.equal(await pins.forData('2026-11-28'), score, 'the 28th\'s cohorts, read after the move, join the score\'s directory');
  t.equal(pins.stats.mismatched, 0);
});

t.test('the anchor\'s pin wins over the other dates\', and a differing one is counted', async (t) => {
  const { state, source } = changingSource();
  const pins = new DirectoryPins(source);
  const office = await pins.forData('2026-11-28');
  state.department = 'DeptB';
  const teams = await pins.forData('2026-11-29');
  const score = await pins.forData('2026-11-29', ['2026-11-28']);
  t.equal(score, teams, 'the score joins the Teams data\'s directory, as the Teams cohorts did');
  t.not(score, office);
  t.equal(await pins.forData('2026-11-28'), office, 'the 28th keeps its own pin');
  t.equal(pins.stats.mismatched, 1, 'the 28th was joined to two directories: counted');
  t.ok(pins.pinnedApart(['2026-11-29', '2026-11-28']), 'and said');
  t.notOk(pins.pinnedApart(['2026-11-29', null, '2026-11-29']), 'one date (and no date) is never apart');
  t.notOk(pins.pinnedApart(['2026-11-30']), 'nor a date not pinned yet');
});

t.test('a failed read pins nothing, for the anchor or the dates alongside', async (t) => {
  const { state, source } = changingSource();
  const pins = new DirectoryPins(source);
  state.fail = true;
  await t.rejects(pins.forData('2026-11-29', ['2026-11-28']), /Graph is down/);
  await new Promise((resolve) => setImmediate(resolve));
  state.fail = false;
  state.department = 'DeptB';
  t.equal(departmentOf(await pins.forData('2026-11-28')), 'DeptB', 'the date alongside reads anew');
  t.equal(departmentOf(await pins.forData('2026-11-29')), 'DeptB', 'the anchor reads anew');
});
