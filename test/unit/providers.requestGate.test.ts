import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestGate, type PacingOptions } from '../../functions/src/providers/requestGate.js';
import { createGates } from '../../functions/src/providers/index.js';

/** Virtual time: sleeping moves the clock, so pacing is checked without waiting. */
function virtualGate(options: PacingOptions) {
  let t = 0;
  const gate = new RequestGate(options, { now: () => t, sleep: async (ms) => void (t += ms) });
  return {
    gate,
    advance: (ms: number) => void (t += ms),
    /** When each of n requests in a row would be sent. */
    async sendTimes(n: number, lane: 'sync' | 'backfill' = 'sync') {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        await gate.wait(undefined, lane);
        times.push(t);
      }
      return times;
    },
  };
}


/** A virtual clock where sleepers wake in time order, interleaved as they would be: for concurrent callers. */
function interleavedClock() {
  let t = 0;
  let seq = 0;
  const timers: { at: number; seq: number; resolve: () => void }[] = [];
  const clock = {
    now: () => t,
    sleep: (ms: number) => new Promise<void>((resolve) => void timers.push({ at: t + ms, seq: seq++, resolve })),
  };
  /** Runs every sleeper due up to `end`, then leaves the clock at `end`. */
  async function runUntil(end: number): Promise<void> {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = timers[0];
      if (!next || next.at > end) {
        t = end;
        return;
      }
      timers.shift();
      t = Math.max(t, next.at);
      next.resolve();
    }
  }
  return { clock, runUntil, now: () => t };
}

describe('providers/requestGate: pacing to a known or learned rate', () => {
  it('honours a pause set while a request already waits for room in the last second', async () => {
    const v = interleavedClock();
    const gate = new RequestGate({ requestsPerSecond: 2 }, v.clock);
    const sentAt: number[] = [];
    // A pause from 0 to 1 s holds three requests whose slots (0, 0.5, 1 s) pass meanwhile: two may leave at 1 s,
    // the third waits for room in the last second, until 2 s.
    gate.pauseFor(1000);
    const waits = [0, 1, 2].map(() => gate.wait().then(() => sentAt.push(v.now())));
    await v.runUntil(1200);
    assert.deepEqual(sentAt, [1000, 1000]);
    // A limit answer at 1.2 s: the third must not leave before 31.2 s.
    gate.pauseFor(30_000);
    await v.runUntil(40_000);
    await Promise.all(waits);
    assert.deepEqual(sentAt, [1000, 1000, 31_200]);
  });

  it('keeps a fractional rate: 1.9 a second for 20 s is about 38 requests, not 20', async () => {
    const v = interleavedClock();
    const gate = new RequestGate({ requestsPerSecond: 1.9 }, v.clock);
    let sent = 0;
    const caller = async () => {
      for (;;) {
        await gate.wait();
        sent++;
      }
    };
    for (let i = 0; i < 4; i++) void caller();
    await v.runUntil(20_000);
    assert.ok(sent >= 37 && sent <= 39, `${sent} requests in 20 s`);
  });

  it("an account's gate learns from its own limit answers and climbs back with its successes", async () => {
    const v = interleavedClock();
    const platform = new RequestGate({ requestsPerSecond: null }, v.clock);
    const account = platform.account('a1');
    // Nothing sent lately: no rate to learn from, the account stays unpaced (its pause holds it back).
    account.slowDown();
    assert.equal(account.requestsPerSecond, null);
    for (let i = 0; i < 8; i++) {
      void account.wait();
      await v.runUntil(i * 250);
    }
    account.slowDown();
    const slowed = account.requestsPerSecond!;
    assert.ok(slowed > 0, 'a rate learned from what the account was sending');
    await v.runUntil(11 * 60_000);
    for (let i = 0; i < 40; i++) account.onSuccess();
    assert.ok(account.requestsPerSecond! > slowed, 'successes raise it again');
    assert.equal(platform.requestsPerSecond, null, 'the platform stays unpaced throughout');
  });

  it('after a stall never lets more than the rate leave within any second, however many slots have passed', async () => {
    let t = 0;
    let stalled = false;
    // One sleep overshoots by a second (a busy event loop): the slots planned meanwhile have all passed.
    const gate = new RequestGate({ requestsPerSecond: 10 }, { now: () => t, sleep: async (ms) => void (t += ms + (stalled ? 0 : ((stalled = true), 1000))) });
    const sent: number[] = [];
    for (let i = 0; i < 30; i++) {
      await gate.wait();
      sent.push(t);
    }
    const busiest = Math.max(...sent.map((s) => sent.filter((u) => u > s - 1000 && u <= s).length));
    assert.equal(busiest, 10);
  });

  it('paces at 90 % of a stated limit, so arrival jitter never puts one request too many in the platform\'s second', () => {
    const gates = createGates({ pacing: { google: { requestsPerSecond: 20 }, linkedin: { requestsPerSecond: 10, maxRequestsPerSecond: 12 } } }, { processShare: 0.5 });
    assert.equal(gates.get('google')!.requestsPerSecond, 20 * 0.9 * 0.5);
    assert.equal(gates.get('linkedin')!.requestsPerSecond, 10 * 0.9 * 0.5);
    // TikTok's documented 10 a second is a stated limit too; Meta states none: unpaced until it answers with a limit.
    assert.equal(gates.get('tiktok')!.requestsPerSecond, 10 * 0.9 * 0.5);
    assert.equal(gates.get('meta')!.requestsPerSecond, null);
  });

  it('counts every request it lets through, both lanes, once: what the daily budgets add up', async () => {
    const v = virtualGate({ requestsPerSecond: 10, backfillShare: 0.5 });
    await v.sendTimes(3);
    await v.sendTimes(2, 'backfill');
    assert.equal(v.gate.takeSentCount(), 5);
    assert.equal(v.gate.takeSentCount(), 0, 'taken once');
    await v.sendTimes(1);
    assert.equal(v.gate.takeSentCount(), 1);
  });

  it('spaces requests at a known rate, and a process with half the share at half of it', async () => {
    assert.deepEqual(await virtualGate({ requestsPerSecond: 10 }).sendTimes(5), [0, 100, 200, 300, 400]);
    assert.deepEqual(await virtualGate({ requestsPerSecond: 10, processShare: 0.5 }).sendTimes(3), [0, 200, 400]);
  });

  it('a backfill uses only its share of the rate; a daily sync is not held behind its clock', async () => {
    const v = virtualGate({ requestsPerSecond: 10, backfillShare: 0.25 });
    assert.deepEqual(await v.sendTimes(3, 'backfill'), [0, 400, 800]);
    // The backfill's next own slot is at 1,200 ms; a sync request goes at the next platform slot.
    assert.deepEqual(await v.sendTimes(2, 'sync'), [900, 1000]);
  });

  it('learns a rate from a limit answer: 70 % of what was being sent, one cut per two seconds', async () => {
    const v = virtualGate({ requestsPerSecond: null });
    assert.equal(v.gate.requestsPerSecond, null, 'unpaced until told otherwise');
    for (let i = 0; i < 40; i++) {
      v.advance(50);
      await v.gate.wait();
    }
    // 40 requests in the last 2 s: 20/s was too much.
    v.gate.slowDown();
    assert.equal(v.gate.requestsPerSecond, 14);
    v.gate.slowDown();
    assert.equal(v.gate.requestsPerSecond, 14, 'answers to requests already in flight do not cut again');
    v.advance(2000);
    v.gate.slowDown();
    assert.ok(Math.abs(v.gate.requestsPerSecond! - 9.8) < 1e-9, 'a later refusal cuts again');
  });

  it('creeps up by 10 % every 20 successes, to just under the rate that was refused, and probes past it after ten minutes', async () => {
    const v = virtualGate({ requestsPerSecond: 10, maxRequestsPerSecond: null });
    await v.sendTimes(20);
    v.gate.slowDown();
    // Sent 20 in the last 2 s (10/s): the rate drops to 7/s, and 9.5/s becomes the ceiling.
    assert.equal(v.gate.requestsPerSecond, 7);
    const after = (n: number) => {
      for (let i = 0; i < n; i++) v.gate.onSuccess();
      return Math.round(v.gate.requestsPerSecond! * 1000) / 1000;
    };
    assert.equal(after(19), 7);
    assert.equal(after(1), 7.7);
    assert.equal(after(20), 8.47);
    assert.equal(after(20), 9.317);
    assert.equal(after(100), 9.5, 'held just under the refused rate');
    v.advance(10 * 60_000);
    assert.equal(after(20), 10.45, 'probing again after ten minutes');
  });

  it('never rises above a documented ceiling, nor falls below the floor', async () => {
    const v = virtualGate({ requestsPerSecond: 10 });
    for (let i = 0; i < 200; i++) v.gate.onSuccess();
    assert.equal(v.gate.requestsPerSecond, 10);
    for (let i = 0; i < 30; i++) {
      v.gate.slowDown();
      v.advance(2000);
    }
    assert.equal(v.gate.requestsPerSecond, 0.5);
  });
});
