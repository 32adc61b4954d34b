import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { BudgetLedger } from '../../src/store/budget-ledger.js';

const file = async () => join(await mkdtemp(join(tmpdir(), 'gpp-ledger-test-')), 'ledger.jsonl');
const day = new Date('2026-11-23T10:00:00Z');

t.test('G6: charges persist across a restart; the yearly budget is enforced at its boundary', async (t) => {
  const path = await file();
  const ledger = await BudgetLedger.open(path);
  t.match(await ledger.charge('dash', 'r1', 1.5, 4, day), { ok: true, charged: true, spent: 1.5 });
  t.match(await ledger.charge('dash', 'r2', 2.5, 4, day), { ok: true, charged: true, spent: 4 }, 'exactly at the budget is allowed');
  t.match(await ledger.charge('dash', 'r3', 0.1, 4, day), { ok: false, spent: 4, limit: 4 }, 'past it is refused');
  t.match(await ledger.charge('other', 'r3', 1, 4, day), { ok: true, charged: true }, 'budgets are per consumer');
  await ledger.close();
  const reopened = await BudgetLedger.open(path);
  t.equal(await reopened.spent('dash', 2026), 4, 'a restart loses nothing');
  t.match(await reopened.charge('dash', 'r4', 1, 4, day), { ok: false });
  t.match(await reopened.charge('dash', 'r4', 1, 4, new Date('2027-01-01T00:00:00Z')), { ok: true, charged: true, spent: 1 }, 'a new year, a new budget');
  await reopened.close();
});

t.test('G7: a release already paid for is not charged again, even past the budget', async (t) => {
  const ledger = await BudgetLedger.open(await file());
  await ledger.charge('dash', 'same', 2, 2, day);
  t.match(await ledger.charge('dash', 'same', 2, 2, day), { ok: true, charged: false, spent: 2 });
  await ledger.close();
});

t.test('concurrent charges are serialised: the budget is never overspent', async (t) => {
  const ledger = await BudgetLedger.open(await file());
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.charge('dash', `r${i}`, 1, 5, day)));
  t.equal(results.filter((r) => r.ok).length, 5);
  t.equal(await ledger.spent('dash', 2026), 5);
  await ledger.close();
});

t.test('a torn last line (a crash mid-write) is ignored; a corrupt earlier line refuses to open', async (t) => {
  const path = await file();
  const ledger = await BudgetLedger.open(path);
  await ledger.charge('dash', 'r1', 1, 10, day);
  await ledger.close();
  await appendFile(path, '{"consumer":"dash","year":2026,"rel');
  const reopened = await BudgetLedger.open(path);
  t.equal(await reopened.spent('dash', 2026), 1);
  await reopened.close();
  await writeFile(path, `garbage\n${await readFile(path, 'utf8')}`);
  await t.rejects(BudgetLedger.open(path), { code: 'StoreCorruptError' });
});

t.test('per organisation: a release two consumers read costs the organisation its epsilon once; each consumer has its share', async (t) => {
  const path = await file();
  const ledger = await BudgetLedger.open(path);
  t.match(await ledger.charge('dash', 'release-1', 1, 10, day), { ok: true, charged: true, spent: 1 });
  t.match(await ledger.charge('bi-tool', 'release-1', 1, 10, day), { ok: true, charged: true, spent: 1 }, "the second consumer's share");
  t.match(await ledger.charge('dash', 'release-2', 1, 10, day), { ok: true, charged: true, spent: 2 });
  t.equal(await ledger.organisationSpent(2026), 2, 'what a person is exposed to: two distinct releases');
  t.same([await ledger.spent('dash', 2026), await ledger.spent('bi-tool', 2026)], [2, 1], 'each consumer its share');
  await ledger.close();
  const reopened = await BudgetLedger.open(path);
  t.equal(await reopened.organisationSpent(2026), 2, 'the organisation total survives a restart');
  await reopened.close();
});
