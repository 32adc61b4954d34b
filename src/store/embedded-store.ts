/** The embedded store: the budget ledger, the score history, the policy history and the release book as append-only files (one replica). */
import { dirname, join } from 'node:path';
import { BudgetLedger } from './budget-ledger.js';
import { PolicyHistoryFile } from './policy-history.js';
import { ReleaseFile } from './release-file.js';
import { ScoreHistory } from './score-history.js';
import type { Store } from './store.js';

/** `policyHistoryFile` defaults to policy-history.jsonl beside the ledger, `releaseFile` to releases.jsonl. */
export async function openEmbeddedStore(files: { readonly ledgerFile: string; readonly historyFile: string; readonly policyHistoryFile?: string; readonly releaseFile?: string }): Promise<Store> {
  const budget = await BudgetLedger.open(files.ledgerFile);
  let history: ScoreHistory | undefined;
  let policyHistory: PolicyHistoryFile | undefined;
  try {
    history = await ScoreHistory.open(files.historyFile);
    policyHistory = await PolicyHistoryFile.open(files.policyHistoryFile ?? join(dirname(files.ledgerFile), 'policy-history.jsonl'));
    const releases = await ReleaseFile.open(files.releaseFile ?? join(dirname(files.ledgerFile), 'releases.jsonl'));
    const [score, policies] = [history, policyHistory];
    return {
      kind: 'embedded',
      budget,
      history: score,
      policyHistory: policies,
      releases,
      ping: async () => true,
      async close() {
        await budget.close();
        await score.close();
        await policies.close();
        await releases.close();
      },
    };
  } catch (error) {
    await budget.close();
    await history?.close();
    await policyHistory?.close();
    throw error;
  }
}
