/**
 * A bound on outbound fetches in flight (FETCH_MAX_CONCURRENT). Each fetch holds
 * sockets, a DNS lookup and a counter's state for up to FETCH_TIMEOUT_MS; without
 * a bound, a burst of slow pages would hold them all at once and starve every
 * other request. A fetch that finds no free slot fails at once (503 with
 * Retry-After) rather than queueing: a queue would only move the wait into the
 * client's and the gateway's timeouts.
 */
export class FetchLimit {
  private inFlight = 0;

  constructor(readonly max: number) {}

  /** A release function when a slot was free (call it exactly once), else null. */
  tryAcquire(): (() => void) | null {
    if (this.inFlight >= this.max) return null;
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
  }

  get active(): number {
    return this.inFlight;
  }
}
