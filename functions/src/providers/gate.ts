import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Paces one platform's requests: an optional steady rate, plus a pause that every caller
 * honours once the platform has said to back off (429, usage headers).
 */
export class RequestGate {
  private resumeAt = 0;
  private nextSlotAt = 0;

  constructor(private readonly requestsPerSecond: number | null) {}

  pauseFor(ms: number): void {
    if (ms > 0) this.resumeAt = Math.max(this.resumeAt, Date.now() + ms);
  }

  async wait(signal?: AbortSignal): Promise<void> {
    if (this.requestsPerSecond) {
      const slot = Math.max(Date.now(), this.nextSlotAt);
      this.nextSlotAt = slot + 1000 / this.requestsPerSecond;
      if (slot > Date.now()) await sleep(slot - Date.now(), undefined, { signal });
    }
    // A pause may be extended while we sleep: wait until none is pending.
    while (this.resumeAt > Date.now()) await sleep(this.resumeAt - Date.now(), undefined, { signal });
  }
}
