/**
 * What the platforms' answers say about their limits, read from headers and bodies:
 * Retry-After, Google's retryDelay, Meta's usage headers, the daily reset at midnight UTC.
 * The limiter that acts on them is requestGate.ts.
 */

/** Retry-After as seconds or an HTTP date, in milliseconds from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (value == null || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** The next midnight UTC (epoch ms), when daily limits such as LinkedIn's reset. */
export function nextUtcMidnight(now = Date.now()): number {
  const day = 86_400_000;
  return (Math.floor(now / day) + 1) * day;
}

/** A protobuf Duration in JSON form ("37s", "0.5s"), as Google sends retryDelay. */
export function parseDuration(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.round(Number(match[1]) * 1000) : null;
}

export interface UsageReading {
  /** Highest utilisation reported, 0..100+. */
  maxPct: number;
  /** How long Meta says to wait before the quota is back, from the regain and reset hints. */
  waitMs: number;
}

export interface MetaUsage extends UsageReading {
  /** The app's own usage (x-app-usage, the insights throttle's app share): every account's requests count. */
  app: UsageReading;
  /** The ad account's and its business's (x-ad-account-usage, x-business-use-case-usage, the throttle's account share). */
  account: UsageReading;
}

function readJson(value: string | null): unknown {
  if (!value) return null;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return null;
  }
}

function numbersOf(record: unknown, keys: readonly string[]): number[] {
  if (typeof record !== 'object' || record === null) return [];
  const values: number[] = [];
  for (const key of keys) {
    const v = (record as Record<string, unknown>)[key];
    if (typeof v === 'number' && Number.isFinite(v)) values.push(v);
  }
  return values;
}

const PCT_KEYS = ['call_count', 'total_time', 'total_cputime', 'acc_id_util_pct', 'app_id_util_pct'] as const;

/** Reads Meta's usage headers; null when none is present. */
export function parseMetaUsage(headers: Headers): MetaUsage | null {
  const app = readJson(headers.get('x-app-usage'));
  const account = readJson(headers.get('x-ad-account-usage'));
  const throttle = readJson(headers.get('x-fb-ads-insights-throttle'));
  const business = readJson(headers.get('x-business-use-case-usage'));
  if (app === null && account === null && throttle === null && business === null) return null;

  const appPcts = [...numbersOf(app, PCT_KEYS), ...numbersOf(throttle, ['app_id_util_pct'])];
  const accountPcts = [...numbersOf(account, PCT_KEYS), ...numbersOf(throttle, ['acc_id_util_pct'])];
  const waits = numbersOf(account, ['reset_time_duration']).map((s) => s * 1000);
  if (typeof business === 'object' && business !== null) {
    for (const entries of Object.values(business as Record<string, unknown>)) {
      if (!Array.isArray(entries)) continue;
      for (const entry of entries) {
        accountPcts.push(...numbersOf(entry, PCT_KEYS));
        waits.push(...numbersOf(entry, ['estimated_time_to_regain_access']).map((m) => m * 60_000));
      }
    }
  }
  // Meta names a wait for accounts and businesses only; the app's usage recovers within its hour.
  const appReading = { maxPct: Math.max(0, ...appPcts), waitMs: 0 };
  const accountReading = { maxPct: Math.max(0, ...accountPcts), waitMs: Math.max(0, ...waits) };
  return { maxPct: Math.max(appReading.maxPct, accountReading.maxPct), waitMs: accountReading.waitMs, app: appReading, account: accountReading };
}
