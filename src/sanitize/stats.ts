/** What sanitising one response did, for the audit log: counts only, never a value. */
export interface SanitizeStats {
  rowsIn: number;
  rowsOut: number;
  /** Rows withheld: a rare quasi-identifier combination, or a team/group of fewer than k people. */
  rowsSuppressed: number;
  /** Cells emptied because they counted 1..k-1 (or a small complement) in a counts report. */
  cellsSuppressed: number;
  /** Upstream columns not released (dropped by policy, or unknown to the catalogue). */
  columnsDropped: number;
  /** Upstream columns the catalogue does not know (Graph added something); always dropped. */
  unknownColumns: number;
  /**
   * Pseudonymised cells released empty because Graph wrote a placeholder (`(Unknown)`, a transient `<PII:...>`
   * name, the zero GUID) that stands for no one in particular: one pseudonym would link different people.
   */
  pseudonymsWithheld: number;
}

export function emptyStats(): SanitizeStats {
  return { rowsIn: 0, rowsOut: 0, rowsSuppressed: 0, cellsSuppressed: 0, columnsDropped: 0, unknownColumns: 0, pseudonymsWithheld: 0 };
}

/**
 * Counts the released quasi-identifier combinations; a row is released only when its combination occurs at
 * least k times (the privacy.md quasi-identifier rule). Holds one entry per distinct combination, not per row.
 */
export class QuasiClasses {
  private readonly counts = new Map<string, number>();

  constructor(readonly k: number) {}

  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  releases(key: string): boolean {
    return (this.counts.get(key) ?? 0) >= this.k;
  }

  get size(): number {
    return this.counts.size;
  }
}

/** The combination key of quasi values (NUL cannot occur in Graph's cells). */
export function quasiKey(values: readonly string[]): string {
  return values.join('\u0000');
}
