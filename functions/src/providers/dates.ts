import { isoDateSchema } from '../schema/metrics.js';
import { PermanentError } from './errors.js';
import type { ProviderId, ReportWindow } from './types.js';

const DAY_MS = 86_400_000;

function toEpochDay(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / DAY_MS;
}

function fromEpochDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return fromEpochDay(toEpochDay(date) + days);
}

/** Days in the inclusive window. */
export function windowDays(window: ReportWindow): number {
  return toEpochDay(window.end) - toEpochDay(window.start) + 1;
}

export function eachDay(window: ReportWindow): string[] {
  const days: string[] = [];
  for (let d = window.start; d <= window.end; d = addDays(d, 1)) days.push(d);
  return days;
}

/** Throws PermanentError before any request is sent when the window is not two real dates in order. */
export function assertWindow(provider: ProviderId, window: ReportWindow): void {
  for (const [field, value] of [
    ['start', window.start],
    ['end', window.end],
  ] as const) {
    if (!isoDateSchema.safeParse(value).success) {
      throw new PermanentError(provider, `window.${field} must be a date as YYYY-MM-DD, got "${String(value).slice(0, 40)}"`);
    }
  }
  if (window.start > window.end) {
    throw new PermanentError(provider, `window starts (${window.start}) after it ends (${window.end})`);
  }
}

/** Consecutive windows of at most maxDays each, covering the window exactly once. */
export function sliceWindow(window: ReportWindow, maxDays: number): ReportWindow[] {
  if (!Number.isInteger(maxDays) || maxDays < 1) throw new RangeError(`maxDays must be a positive integer, got ${maxDays}`);
  const slices: ReportWindow[] = [];
  for (let start = window.start; start <= window.end; start = addDays(start, maxDays)) {
    const end = addDays(start, maxDays - 1);
    slices.push({ start, end: end < window.end ? end : window.end });
  }
  return slices;
}

/** A window of two or more days as its two halves (the first one day longer when odd). */
export function halveWindow(window: ReportWindow): ReportWindow[] {
  return sliceWindow(window, Math.ceil(windowDays(window) / 2));
}

/** Days per request so that campaigns x days stays within a platform's row cap. */
export function daysPerRequest(campaigns: number, maxRows: number): number {
  return Math.max(1, Math.floor(maxRows / Math.max(1, campaigns)));
}
