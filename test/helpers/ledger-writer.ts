/**
 * A child process for the kill -9 test: opens the budget ledger named in argv[2] and charges fresh releases in
 * a loop, printing "acked <n>" after each charge resolves (that is, after its line was fsync'd).
 */
import { BudgetLedger } from '../../src/store/budget-ledger.js';

const ledger = await BudgetLedger.open(process.argv[2]!);
process.stdout.write('open\n');
for (let n = 1; ; n++) {
  const charge = await ledger.charge('dash', `release-${process.pid}-${n}`, 0.001, 1e5);
  if (!charge.ok) throw new Error('the budget should not run out in this test');
  process.stdout.write(`acked ${n}\n`);
}
