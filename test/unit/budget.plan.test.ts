import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { budgetDayOf, nextBudgetDay, planBudget, retryAllowed, runsBetween, stretchedNextRun, type BudgetInput } from '../../functions/src/budget/plan.js';
import { stretched } from '../../functions/src/scheduler/cadence.js';

const at = (iso: string) => Date.parse(iso);
const none = { hourly: 0, every6h: 0, daily: 0, weekly: 0 };

describe('daily budget plan', () => {
  it('counts the scheduled runs of each cadence left in a span, the current boundary included', () => {
    // 2026-12-07 is a Monday.
    const from = at('2026-12-07T13:00:00Z');
    const dayEnd = at('2026-12-08T00:00:00Z');
    assert.equal(runsBetween('hourly', from, dayEnd), 11);
    assert.equal(runsBetween('every6h', from, dayEnd), 1); // 18:00
    assert.equal(runsBetween('daily', from, dayEnd), 0);
    assert.equal(runsBetween('daily', at('2026-12-07T00:00:00Z'), dayEnd), 1);
    assert.equal(runsBetween('weekly', at('2026-12-07T00:00:00Z'), dayEnd), 1);
    assert.equal(runsBetween('weekly', at('2026-12-08T00:00:00Z'), at('2026-12-09T00:00:00Z')), 0);
    assert.equal(runsBetween('hourly', from, from), 0);
  });

  it('stretches to the slower of the cadence set and the stretch in force', () => {
    assert.equal(stretched('hourly', null), 'hourly');
    assert.equal(stretched('hourly', 'every6h'), 'every6h');
    assert.equal(stretched('weekly', 'daily'), 'weekly');
    assert.equal(stretched('every6h', 'daily'), 'daily');
  });

  it('names the budget day and its end in UTC', () => {
    assert.equal(budgetDayOf(at('2026-12-07T23:59:59Z')), '2026-12-07');
    assert.equal(nextBudgetDay(at('2026-12-07T13:20:00Z')), at('2026-12-08T00:00:00Z'));
  });

  const input = (over: Partial<BudgetInput>): BudgetInput => ({
    budget: 15_000,
    reserveShare: 0.1,
    spent: 0,
    callsPerSync: 1,
    integrations: none,
    dueThisHour: 0,
    now: at('2026-12-07T13:05:00Z'),
    ...over,
  });
  const HOUR = at('2026-12-07T13:00:00Z');

  it('keeps every cadence while the rest of the day fits, and lets this hour spend what later hours leave', () => {
    // 100 hourly, all due now: 100 this hour + 10 later hours × 100 = 1,100 of 13,500 available.
    const plan = planBudget(input({ integrations: { ...none, hourly: 100 }, dueThisHour: 100 }));
    assert.deepEqual(plan, { reserve: 1_500, available: 13_500, demand: 1_100, stretchedTo: null, hourAllowance: 13_500 - 1_000, hourStart: HOUR, reserveReached: false });
  });

  it('stretches hourly to every 6 hours first, then to daily, stopping at the first that fits', () => {
    // 1,000 hourly due now, 3,000 left: as set 1,000 + 10,000; every 6 h 1,000 + 1,000 (18:00).
    const six = planBudget(input({ spent: 10_500, integrations: { ...none, hourly: 1_000 }, dueThisHour: 1_000 }));
    assert.equal(six.demand, 11_000);
    assert.equal(six.stretchedTo, 'every6h');
    assert.equal(six.hourAllowance, 3_000 - 1_000);
    // With 500 every-6h ones too, every 6 hours needs 1,500 + 1,500 > 2,000: daily (nothing later today).
    const daily = planBudget(input({ spent: 11_500, integrations: { ...none, hourly: 1_000, every6h: 500 }, dueThisHour: 1_500 }));
    assert.equal(daily.stretchedTo, 'daily');
    assert.equal(daily.hourAllowance, 2_000);
  });

  it('when not even daily runs fit, spreads what is left evenly over the hours to midnight, at least one sync an hour', () => {
    // Midnight on a Tuesday, 20,000 daily ones due: 13,500 over 24 hours.
    const short = planBudget(input({ now: at('2026-12-08T00:10:00Z'), integrations: { ...none, daily: 20_000 }, dueThisHour: 20_000 }));
    assert.deepEqual([short.stretchedTo, short.hourAllowance, short.reserveReached], ['daily', Math.floor(13_500 / 24), false]);
    // At 13:05 the 14,000 still due (left by earlier hours) share what is left with the 10 hours after this one.
    const later = planBudget(input({ spent: 6_875, integrations: { ...none, daily: 20_000 }, dueThisHour: 14_000 }));
    assert.deepEqual([later.demand, later.hourAllowance], [14_000, Math.floor((13_500 - 6_875) / 11)]);
    // Little left: still one sync an hour while a sync's worth remains.
    const little = planBudget(input({ spent: 13_495, integrations: { ...none, daily: 20_000 }, dueThisHour: 14_000 }));
    assert.equal(little.hourAllowance, 1);
  });

  it('never stretches a next run past the budget day unless its own cadence goes further', () => {
    assert.equal(stretchedNextRun('hourly', 'daily', at('2026-12-08T13:05:00Z')), at('2026-12-09T00:00:00Z'));
    assert.equal(stretchedNextRun('hourly', 'every6h', at('2026-12-08T13:05:00Z')), at('2026-12-08T18:00:00Z'));
    assert.equal(stretchedNextRun('weekly', 'daily', at('2026-12-08T13:05:00Z')), at('2026-12-14T00:00:00Z'));
    assert.equal(stretchedNextRun('daily', null, at('2026-12-08T13:05:00Z')), at('2026-12-09T00:00:00Z'));
  });

  it('counts what earlier hours left due in this hour: daily ones due since midnight are not free at 13:00', () => {
    // 3,000 left, 1,000 daily integrations still due: they fit (no stretch) and this hour may start them all.
    const plan = planBudget(input({ spent: 10_500, integrations: { ...none, daily: 1_000 }, dueThisHour: 1_000 }));
    assert.deepEqual([plan.demand, plan.stretchedTo, plan.hourAllowance], [1_000, null, 3_000]);
  });

  it('starts nothing scheduled once only the reserve is left, and costs scale the arithmetic', () => {
    const spentOut = planBudget(input({ spent: 13_600, integrations: { ...none, daily: 10 }, dueThisHour: 10 }));
    assert.deepEqual([spentOut.available, spentOut.hourAllowance, spentOut.reserveReached], [0, 0, true]);
    // 14:05, 2,000 left, 2,000 every-6h integrations due at 18:00: this hour starts nothing, yet the day is not over.
    const waiting = planBudget(input({ now: at('2026-12-07T14:05:00Z'), spent: 11_500, integrations: { ...none, every6h: 2_000 } }));
    assert.deepEqual([waiting.stretchedTo, waiting.hourAllowance, waiting.reserveReached], [null, 0, false]);
    // Three requests a sync: 1,000 hourly need 33,000 today; every 6 h 3,000 + 3,000; the hour may start (13,500 − 3,000) / 3.
    const meta = planBudget(input({ callsPerSync: 3, integrations: { ...none, hourly: 1_000 }, dueThisHour: 1_000 }));
    assert.equal(meta.stretchedTo, 'every6h');
    assert.equal(meta.hourAllowance, Math.floor((13_500 - 3_000) / 3));
  });

  it('allows a retry only while more than the reserve is left', () => {
    assert.equal(retryAllowed(15_000, 0.1, 13_499), true);
    assert.equal(retryAllowed(15_000, 0.1, 13_500), false);
    assert.equal(retryAllowed(15_000, 0.1, 20_000), false);
  });
});
