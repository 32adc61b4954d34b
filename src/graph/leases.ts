/**
 * Reader leases on a stored thing (a report snapshot, a consumer's release) that closes once it is taken out of
 * service and its last reader is done, so a reader never loses its file mid-read.
 */
export abstract class Leased {
  private leases: number;
  private retired = false;
  private closed = false;

  constructor(leases: number) {
    this.leases = leases;
  }

  acquire(): void {
    this.leases++;
  }

  release(): void {
    this.leases--;
    this.closeIfDone();
  }

  /** Takes it out of service; it closes once the last reader is done. */
  retire(): void {
    this.retired = true;
    this.closeIfDone();
  }

  /** Called once, when retired and unleased. */
  protected abstract close(): void;

  private closeIfDone(): void {
    if (!this.retired || this.leases > 0 || this.closed) return;
    this.closed = true;
    this.close();
  }
}
