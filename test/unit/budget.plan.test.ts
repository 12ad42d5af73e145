import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { budgetDayOf, nextBudgetDay, planBudget, retryAllowed, runsBetween, type BudgetInput } from '../../functions/src/budget/plan.js';
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
    now: at('2026-12-07T13:05:00Z'),
    ...over,
  });

  it('keeps every cadence while the rest of the day fits, and lets this hour spend what later hours leave', () => {
    // 100 hourly: 11 runs left today (13:00 to 23:00) = 1,100 of 13,500 available.
    const plan = planBudget(input({ integrations: { ...none, hourly: 100 } }));
    assert.deepEqual(plan, { reserve: 1_500, available: 13_500, demand: 1_100, stretchedTo: null, hourAllowance: 13_500 - 1_000 });
  });

  it('stretches hourly to every 6 hours first, then to daily, then to weekly, stopping at the first that fits', () => {
    // 1,000 hourly at 13:05 would take 11,000; 3,000 are left (spent 10,500 of 13,500).
    const six = planBudget(input({ spent: 10_500, integrations: { ...none, hourly: 1_000 } }));
    // every 6 h: 18:00 only after this hour → 1,000.
    assert.equal(six.demand, 11_000);
    assert.equal(six.stretchedTo, 'every6h');
    assert.equal(six.hourAllowance, 3_000 - 1_000);
    // With 500 every-6h ones too, every 6 h needs 1,000 + 500 = 1,500 ≤ 1,000? No: stretch to daily (0 later runs today).
    const daily = planBudget(input({ spent: 12_500, integrations: { ...none, hourly: 1_000, every6h: 500 } }));
    assert.equal(daily.stretchedTo, 'daily');
    assert.equal(daily.hourAllowance, 1_000);
    // At midnight on a Tuesday 20,000 daily ones cannot fit even once: weekly (none today), and the hour gets what there is.
    const weekly = planBudget(input({ now: at('2026-12-08T00:10:00Z'), integrations: { ...none, daily: 20_000 } }));
    assert.equal(weekly.stretchedTo, 'weekly');
    assert.equal(weekly.hourAllowance, 13_500);
  });

  it('starts nothing scheduled once only the reserve is left, and costs scale the arithmetic', () => {
    const spentOut = planBudget(input({ spent: 13_600, integrations: { ...none, daily: 10 } }));
    assert.equal(spentOut.available, 0);
    assert.equal(spentOut.hourAllowance, 0);
    // Three requests a sync: 1,000 hourly need 33,000 today; the hour may start (13,500 − 3,000 later) / 3.
    const meta = planBudget(input({ callsPerSync: 3, integrations: { ...none, hourly: 1_000 } }));
    assert.equal(meta.stretchedTo, 'every6h');
    assert.equal(meta.hourAllowance, Math.floor((13_500 - 3_000) / 3));
  });

  it('allows a retry only while more than the reserve is left', () => {
    assert.equal(retryAllowed(15_000, 0.1, 13_499), true);
    assert.equal(retryAllowed(15_000, 0.1, 13_500), false);
    assert.equal(retryAllowed(15_000, 0.1, 20_000), false);
  });
});
