/** The embedded store: the budget ledger and the score history as append-only files (one replica). */
import { BudgetLedger } from './budget-ledger.js';
import { ScoreHistory } from './score-history.js';
import type { Store } from './store.js';

export async function openEmbeddedStore(files: { readonly ledgerFile: string; readonly historyFile: string }): Promise<Store> {
  const budget = await BudgetLedger.open(files.ledgerFile);
  const history = await ScoreHistory.open(files.historyFile).catch(async (error: unknown) => {
    await budget.close();
    throw error;
  });
  return {
    kind: 'embedded',
    budget,
    history,
    ping: async () => true,
    async close() {
      await budget.close();
      await history.close();
    },
  };
}
