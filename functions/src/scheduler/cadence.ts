import type { Automation, Cadence } from '../schema/index.js';

const HOUR = 3_600_000;
export const CADENCE_INTERVAL_MS: Record<Cadence, number> = {
  hourly: HOUR,
  every6h: 6 * HOUR,
  daily: 24 * HOUR,
  weekly: 7 * 24 * HOUR,
};

/** Weekly runs fall on Mondays 00:00 UTC (1970-01-05 was a Monday). */
export const GRID_ORIGIN = Date.UTC(1970, 0, 5);

/**
 * The next run is the next boundary of the cadence's grid (top of the hour, 00/06/12/18 h,
 * midnight, Monday), not "now + interval": a run that starts a few minutes late must not
 * push every later run late too.
 */
export function nextRunAfter(cadence: Cadence, now: Date): Date {
  const interval = CADENCE_INTERVAL_MS[cadence];
  const periods = Math.floor((now.getTime() - GRID_ORIGIN) / interval) + 1;
  return new Date(GRID_ORIGIN + periods * interval);
}

/** Scheduler calls may arrive a little early or late; this much early still counts as due. */
export const DUE_SLACK_MS = 2 * 60_000;

export function isDue(nextRunAt: Date | null, now: Date): boolean {
  return nextRunAt === null || nextRunAt.getTime() <= now.getTime() + DUE_SLACK_MS;
}

/** When automation is on, the next boundary of its cadence; off, no run at all. */
export function nextRunFor(automation: Pick<Automation, 'enabled' | 'cadence'>, now: Date): Date | null {
  return automation.enabled ? nextRunAfter(automation.cadence, now) : null;
}

/**
 * The cadence a scheduled sync runs at while its platform's daily budget is stretched
 * (functions/src/budget/plan.ts): the slower of the one set and the stretch in force.
 */
export function stretched(cadence: Cadence, floor: Cadence | null): Cadence {
  if (floor === null) return cadence;
  return CADENCE_INTERVAL_MS[floor] > CADENCE_INTERVAL_MS[cadence] ? floor : cadence;
}
