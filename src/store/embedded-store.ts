/** The embedded store: the budget ledger, the score history, the policy history, the release book and the refreshes' patterns as append-only files (one replica). */
import { dirname, join } from 'node:path';
import { BudgetLedger } from './budget-ledger.js';
import { PolicyHistoryFile } from './policy-history.js';
import { RefreshPatternFile } from './refresh-patterns.js';
import { ReleaseFile } from './release-file.js';
import { ScoreHistory } from './score-history.js';
import type { Store } from './store.js';

/** `policyHistoryFile` defaults to policy-history.jsonl beside the ledger, `releaseFile` to releases.jsonl, `refreshPatternFile` to refresh-patterns.jsonl. */
export async function openEmbeddedStore(files: { readonly ledgerFile: string; readonly historyFile: string; readonly policyHistoryFile?: string; readonly releaseFile?: string; readonly refreshPatternFile?: string }): Promise<Store> {
  const budget = await BudgetLedger.open(files.ledgerFile);
  let history: ScoreHistory | undefined;
  let policyHistory: PolicyHistoryFile | undefined;
  let releases: ReleaseFile | undefined;
  try {
    history = await ScoreHistory.open(files.historyFile);
    policyHistory = await PolicyHistoryFile.open(files.policyHistoryFile ?? join(dirname(files.ledgerFile), 'policy-history.jsonl'));
    releases = await ReleaseFile.open(files.releaseFile ?? join(dirname(files.ledgerFile), 'releases.jsonl'));
    const refreshPatterns = await RefreshPatternFile.open(files.refreshPatternFile ?? join(dirname(files.ledgerFile), 'refresh-patterns.jsonl'));
    const [score, policies, book] = [history, policyHistory, releases];
    return {
      kind: 'embedded',
      budget,
      history: score,
      policyHistory: policies,
      releases: book,
      refreshPatterns,
      ping: async () => true,
      async close() {
        await budget.close();
        await score.close();
        await policies.close();
        await book.close();
        await refreshPatterns.close();
      },
    };
  } catch (error) {
    await budget.close();
    await history?.close();
    await policyHistory?.close();
    await releases?.close();
    throw error;
  }
}
