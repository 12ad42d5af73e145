import { addDays, sliceWindow } from '../providers/dates.js';
import type { ReportWindow } from '../providers/index.js';

/** How far back each platform keeps daily reporting data (about 37 months; we take 2 years). */
export const MAX_BACKFILL_DAYS = 730;

/** Today's date in the ad account's timezone, as the platforms date their rows. */
export function todayIn(timeZone: string, now = new Date()): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** The last `days` days ending today (inclusive), in the account's timezone. */
export function lookbackWindow(days: number, timeZone: string, now = new Date()): ReportWindow {
  const end = todayIn(timeZone, now);
  return { start: addDays(end, -(days - 1)), end };
}

/**
 * A backfill covers `days` days ending yesterday (today belongs to the incremental sync),
 * cut into chunks small enough for one job's time budget, oldest first.
 */
export function backfillChunks(days: number, chunkDays: number, timeZone: string, now = new Date()): ReportWindow[] {
  const end = addDays(todayIn(timeZone, now), -1);
  const span = Math.min(days, MAX_BACKFILL_DAYS);
  return sliceWindow({ start: addDays(end, -(span - 1)), end }, chunkDays);
}
