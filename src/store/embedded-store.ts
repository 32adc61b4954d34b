/** The embedded store: the budget ledger, the score history and the policy history as append-only files (one replica). */
import { dirname, join } from 'node:path';
import { BudgetLedger } from './budget-ledger.js';
import { PolicyHistoryFile } from './policy-history.js';
import { ScoreHistory } from './score-history.js';
import type { Store } from './store.js';

/** `policyHistoryFile` defaults to policy-history.jsonl beside the ledger. */
export async function openEmbeddedStore(files: { readonly ledgerFile: string; readonly historyFile: string; readonly policyHistoryFile?: string }): Promise<Store> {
  const budget = await BudgetLedger.open(files.ledgerFile);
  let history: ScoreHistory | undefined;
  try {
    history = await ScoreHistory.open(files.historyFile);
    const policyHistory = await PolicyHistoryFile.open(files.policyHistoryFile ?? join(dirname(files.ledgerFile), 'policy-history.jsonl'));
    const score = history;
    return {
      kind: 'embedded',
      budget,
      history: score,
      policyHistory,
      ping: async () => true,
      async close() {
        await budget.close();
        await score.close();
        await policyHistory.close();
      },
    };
  } catch (error) {
    await budget.close();
    await history?.close();
    throw error;
  }
}
