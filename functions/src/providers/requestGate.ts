import { setTimeout as sleep } from 'node:timers/promises';

/** Daily syncs, or history: a backfill may use only its share of the rate. */
export type RequestLane = 'sync' | 'backfill';

export interface PacingOptions {
  /**
   * Requests per second to start from: the platform's documented limit where it publishes
   * one. Null: unpaced until the first limit answer, which sets a rate learned from the
   * requests that were being sent.
   */
  requestsPerSecond: number | null;
  /** The learned rate never drops below this. Default 0.5/s. */
  minRequestsPerSecond?: number;
  /** Nor rises above this (the documented limit, where known). Default: the starting rate, or unbounded. */
  maxRequestsPerSecond?: number | null;
  /** Fraction of the rate backfill requests may use; daily syncs may use all of it. Default 1. */
  backfillShare?: number;
  /** Fraction of the platform's rate this process may use: 1 / the worker instances that may run at once. Default 1. */
  processShare?: number;
}

/** Time as the gate sees it; tests pass a virtual clock. */
export interface PacingClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<unknown>;
}

/** After this many successes in a row the learned rate creeps up by INCREASE_STEP. */
const INCREASE_EVERY = 20;
const INCREASE_STEP = 1.1;
/** A limit answer cuts the rate to this fraction of what was being sent. */
const DECREASE_FACTOR = 0.7;
/** A rate that was refused is not climbed past (95 % of it) for ten minutes; then the limit is probed again. */
const LEARNED_CEILING_FACTOR = 0.95;
const LEARNED_CEILING_MS = 10 * 60_000;
/** Window over which the sending rate is measured when a limit answer arrives. */
const OBSERVE_MS = 2000;

/**
 * Paces one platform's requests for everything this process sends to it (every job of every
 * worker call, daily syncs and backfills): a steady rate, known or learned, plus a pause that
 * every caller honours once the platform has said to back off (429, usage headers).
 *
 * Learning is additive-increase / multiplicative-decrease: a limit answer sets the rate to 70 %
 * of what was being sent in the last two seconds (once per two seconds, however many requests in
 * flight were refused); 20 successes in a row raise it by 10 %, up to the ceiling and, for ten
 * minutes, to 95 % of the rate that was refused. Backfill requests take a slot on their own, slower clock as well, so they never
 * use more than their share and a daily sync always finds room.
 */
export class RequestGate {
  private resumeAt = 0;
  private nextSlotAt = 0;
  private nextBackfillSlotAt = 0;
  private rate: number | null;
  private successes = 0;
  private lastCutAt = Number.NEGATIVE_INFINITY;
  private learnedCeiling: { rate: number; until: number } | null = null;
  private readonly sent: number[] = [];
  /** Requests let through since the last takeSentCount(): the daily budgets' count. */
  private sentUncounted = 0;
  private readonly floor: number;
  private readonly ceiling: number | null;
  private readonly backfillShare: number;
  private readonly processShare: number;

  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  private readonly accounts = new Map<string, RequestGate>();

  constructor(options: PacingOptions | number | null, clock: Partial<PacingClock> = {}) {
    this.now = clock.now ?? Date.now;
    this.sleep = clock.sleep ?? ((ms, signal) => sleep(ms, undefined, { signal }));
    const o: PacingOptions = typeof options === 'object' && options !== null ? options : { requestsPerSecond: options };
    this.processShare = o.processShare ?? 1;
    this.rate = o.requestsPerSecond === null ? null : o.requestsPerSecond * this.processShare;
    this.floor = (o.minRequestsPerSecond ?? 0.5) * this.processShare;
    const ceiling = o.maxRequestsPerSecond === undefined ? o.requestsPerSecond : o.maxRequestsPerSecond;
    this.ceiling = ceiling === null ? null : ceiling * this.processShare;
    this.backfillShare = o.backfillShare ?? 1;
  }

  /** The rate in force (requests per second), null while unpaced. */
  get requestsPerSecond(): number | null {
    return this.rate;
  }

  pauseFor(ms: number): void {
    if (ms > 0) this.resumeAt = Math.max(this.resumeAt, this.now() + ms);
  }

  /**
   * The platform refused a request for its rate, or reports usage near its limit (Meta's
   * usage headers): slow down to below what it evidently allows.
   */
  slowDown(): void {
    this.successes = 0;
    const now = this.now();
    // Requests already in flight answer alike: one cut per observation window, not one per answer.
    if (now - this.lastCutAt < OBSERVE_MS) return;
    const recent = this.sent.filter((t) => t > now - OBSERVE_MS).length / (OBSERVE_MS / 1000);
    // Unpaced and nothing sent lately (slow answers, an account's first request): there is no
    // rate to learn from; the pause that came with the answer is what holds requests back.
    if (this.rate === null && recent === 0) return;
    this.lastCutAt = now;
    const base = this.rate === null ? recent : Math.min(this.rate, recent || this.rate);
    this.rate = Math.max(this.floor, base * DECREASE_FACTOR);
    // What was refused is the limit, learned: climb back to just under it, not into it again.
    this.learnedCeiling = { rate: Math.max(this.floor, base * LEARNED_CEILING_FACTOR), until: now + LEARNED_CEILING_MS };
  }

  onSuccess(): void {
    if (this.rate === null || ++this.successes < INCREASE_EVERY) return;
    this.successes = 0;
    const learned = this.learnedCeiling && this.learnedCeiling.until > this.now() ? this.learnedCeiling.rate : Number.POSITIVE_INFINITY;
    this.rate = Math.min(this.rate * INCREASE_STEP, this.ceiling ?? Number.POSITIVE_INFINITY, Math.max(learned, this.rate));
  }

  /**
   * The gate of one account, for a platform that also limits per account (Meta's business use
   * case and ad-account limits): unpaced until that account's own usage or limit answers slow
   * it, so one busy account waits without holding up the others. Shared by both lanes, as
   * this gate is. A request passes this gate, then its account's.
   */
  account(accountId: string): RequestGate {
    let gate = this.accounts.get(accountId);
    if (!gate) {
      gate = new RequestGate({ requestsPerSecond: null, minRequestsPerSecond: this.floor / this.processShare }, { now: this.now, sleep: this.sleep });
      this.accounts.set(accountId, gate);
    }
    return gate;
  }

  /**
   * Waits until no pause is pending and the last second of what was actually sent has room.
   * Slots are planned ahead; when the process stalls (a busy event loop, a loaded machine) or
   * a pause ends, requests whose slots have passed would all leave at once, and platforms
   * count requests in a sliding second. Every pass looks at the pause, the rate and the window
   * afresh (either may change while a request sleeps), and nothing awaits between the last
   * look and the send being recorded, so callers cannot pass together.
   */
  private async untilClear(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.now();
      if (this.resumeAt > now) {
        await this.sleep(this.resumeAt - now, signal);
        continue;
      }
      if (this.rate === null) return;
      // A fractional rate rounds up: the slots already space requests at the rate itself.
      const perSecond = Math.max(1, Math.ceil(this.rate));
      const inWindow = this.sent.filter((t) => t > now - 1000);
      if (inWindow.length < perSecond) return;
      await this.sleep(inWindow[inWindow.length - perSecond]! + 1000 - now, signal);
    }
  }

  /** Requests let through since the last call (every lane, every job of this process), counted once. */
  takeSentCount(): number {
    const count = this.sentUncounted;
    this.sentUncounted = 0;
    return count;
  }

  async wait(signal?: AbortSignal, lane: RequestLane = 'sync'): Promise<void> {
    if (this.rate !== null) {
      if (lane === 'backfill' && this.backfillShare < 1) {
        const own = Math.max(this.now(), this.nextBackfillSlotAt);
        this.nextBackfillSlotAt = own + 1000 / (this.rate * this.backfillShare);
        if (own > this.now()) await this.sleep(own - this.now(), signal);
      }
      const slot = Math.max(this.now(), this.nextSlotAt);
      this.nextSlotAt = slot + 1000 / this.rate;
      if (slot > this.now()) await this.sleep(slot - this.now(), signal);
    }
    await this.untilClear(signal);
    const now = this.now();
    this.sentUncounted++;
    this.sent.push(now);
    while (this.sent.length > 0 && this.sent[0]! <= now - OBSERVE_MS) this.sent.shift();
  }
}
