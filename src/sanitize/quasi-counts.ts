/**
 * Quasi-identifier class counts per snapshot and rows plan. They depend only on the two, so they are counted
 * once per snapshot and plan (the policy version and consumer name it), not per page or per download. The app
 * builds one and hands it to the report routes; a snapshot's counts go when the snapshot object goes.
 */
import type { QuasiClasses } from './stats.js';

export class QuasiClassCounts {
  private readonly counts = new WeakMap<object, Map<string, Promise<QuasiClasses>>>();

  /** The counts for `snapshot` under `planKey`, from `count()` the first time (a failed count is not kept). */
  of(snapshot: object, planKey: string, count: () => Promise<QuasiClasses>): Promise<QuasiClasses> {
    let byPlan = this.counts.get(snapshot);
    if (byPlan === undefined) this.counts.set(snapshot, (byPlan = new Map()));
    const plans = byPlan;
    let counted = plans.get(planKey);
    if (counted === undefined) {
      counted = count();
      counted.catch(() => plans.delete(planKey));
      plans.set(planKey, counted);
    }
    return counted;
  }
}
