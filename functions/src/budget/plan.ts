/**
 * A platform's daily request budget, planned for the rest of the day. Pure: the scheduler
 * feeds it the day's counts and the cadences set, and stores what comes out.
 *
 * - Scheduled syncs may spend the budget less a reserve; retries never touch the reserve, so
 *   the last of a day goes to first runs (Sync now, a new connection's backfill).
 * - When the day's scheduled syncs would not fit, cadences stretch in a stated order: hourly
 *   ones run every 6 hours, then every-6h ones daily (STRETCH_ORDER), stopping at the first
 *   that fits. A stretch never reaches past the budget day: tomorrow has a new budget.
 * - Each hour's run starts only what the rest of the day's runs leave over (hourAllowance).
 *   When even daily runs do not fit, what is left is spread evenly over the day's remaining
 *   hours, and the integrations left due go first the next hour (the oldest first).
 */
import { nextUtcMidnight } from '../providers/limitSignals.js';
import { CADENCE_INTERVAL_MS, GRID_ORIGIN, nextRunAfter, stretched } from '../scheduler/cadence.js';
import { CADENCES, type Cadence } from '../schema/index.js';

const HOUR_MS = 3_600_000;

/** Stretch levels, mildest first: null keeps every cadence as set. */
export const STRETCH_ORDER: readonly (Cadence | null)[] = [null, 'every6h', 'daily'];

/** The UTC date of a moment, YYYY-MM-DD: platform budgets are counted per UTC day. */
export const budgetDayOf = (at: number) => new Date(at).toISOString().slice(0, 10);

/** The next midnight UTC, when a new budget day starts. */
export const nextBudgetDay = (at: number) => nextUtcMidnight(at);

/** The start of the hour a moment falls in: the hour an allowance is for. */
export const hourStartOf = (at: number) => Math.floor(at / HOUR_MS) * HOUR_MS;

/** Boundaries of a cadence's grid in [from, to): the scheduled runs of one integration in that span. */
export function runsBetween(cadence: Cadence, from: number, to: number): number {
  if (to <= from) return 0;
  const interval = CADENCE_INTERVAL_MS[cadence];
  const first = Math.ceil((from - GRID_ORIGIN) / interval);
  const last = Math.floor((to - 1 - GRID_ORIGIN) / interval);
  return Math.max(0, last - first + 1);
}

export interface BudgetInput {
  /** Requests a day. */
  budget: number;
  /** Fraction of the budget kept back for first runs (Sync now, backfills). */
  reserveShare: number;
  /** Requests counted so far today. */
  spent: number;
  /** Requests one sync costs. */
  callsPerSync: number;
  /** Connected integrations with automation on, per cadence. */
  integrations: Readonly<Record<Cadence, number>>;
  /** Of those, how many are due before the next hour (their nextRunAt): this hour's runs, earlier hours' leftovers included. */
  dueThisHour: number;
  now: number;
}

export interface BudgetPlan {
  reserve: number;
  /** What scheduled syncs may still spend today. */
  available: number;
  /** Requests the rest of the day's scheduled syncs would take at the cadences set. */
  demand: number;
  stretchedTo: Cadence | null;
  /** Scheduled syncs this hour may start. */
  hourAllowance: number;
  /** The hour the allowance is for (epoch ms): a run of the same hour reuses the plan. */
  hourStart: number;
  /** Only the reserve is left: scheduled syncs wait for the next budget day. */
  reserveReached: boolean;
}

/** Requests the scheduled syncs in [from, to) take under a stretch. */
function demandBetween(input: BudgetInput, floor: Cadence | null, from: number, to: number): number {
  return CADENCES.reduce((sum, cadence) => sum + input.integrations[cadence] * runsBetween(stretched(cadence, floor), from, to), 0) * input.callsPerSync;
}

export function planBudget(input: BudgetInput): BudgetPlan {
  // The hourly run may start a few minutes late: its own hour's runs are still to come.
  const hourStart = hourStartOf(input.now);
  const nextHour = hourStart + HOUR_MS;
  const dayEnd = nextBudgetDay(input.now);
  const reserve = Math.ceil(input.budget * input.reserveShare);
  const available = Math.max(0, input.budget - reserve - input.spent);
  // This hour's runs are the integrations actually due (earlier hours' leftovers included);
  // the later hours' are every boundary of each cadence's grid, at the stretch in question.
  const thisHour = input.dueThisHour * input.callsPerSync;
  const demand = thisHour + demandBetween(input, null, nextHour, dayEnd);
  const fits = STRETCH_ORDER.findIndex((floor) => thisHour + demandBetween(input, floor, nextHour, dayEnd) <= available);
  const stretchedTo = STRETCH_ORDER[fits === -1 ? STRETCH_ORDER.length - 1 : fits]!;
  const reserveReached = available < input.callsPerSync;
  // This hour may spend what the later hours' runs, at the stretch chosen, leave over. When
  // not even daily runs fit, each hour to midnight gets an even share (at least one sync while
  // any is left), and those left due go first the next hour.
  const later = demandBetween(input, stretchedTo, nextHour, dayEnd);
  const hoursLeft = Math.round((dayEnd - hourStart) / HOUR_MS);
  const hourAllowance = reserveReached
    ? 0
    : fits === -1
      ? Math.max(1, Math.floor(available / hoursLeft / input.callsPerSync))
      : Math.floor(Math.max(0, available - later) / input.callsPerSync);
  return { reserve, available, demand, stretchedTo, hourAllowance, hourStart, reserveReached };
}

/**
 * The next run of a stretched integration: on the slower grid, but never past the next
 * budget day (tomorrow's budget is planned afresh) unless its own cadence goes further.
 */
export function stretchedNextRun(cadence: Cadence, floor: Cadence | null, now: number): number {
  const own = nextRunAfter(cadence, new Date(now)).getTime();
  const slower = nextRunAfter(stretched(cadence, floor), new Date(now)).getTime();
  return Math.min(slower, Math.max(own, nextBudgetDay(now)));
}

/**
 * Whether a retry may still be sent today: only while more than the reserve is left, so
 * failures that repeat cannot eat what first runs need.
 */
export const retryAllowed = (budget: number, reserveShare: number, spent: number) => budget - spent > Math.ceil(budget * reserveShare);
