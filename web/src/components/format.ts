import type { TimestampLike } from '@functions/schema/index.js';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export const toDate = (t: TimestampLike | Date | null | undefined): Date | null => (t ? (t instanceof Date ? t : t.toDate()) : null);

export function formatDateTime(t: TimestampLike | Date | null | undefined): string {
  const date = toDate(t);
  return date ? dateTime.format(date) : '—';
}

/** "in 3 hours", "5 minutes ago", "now". */
export function formatRelative(t: TimestampLike | Date | null | undefined, now = Date.now()): string {
  const date = toDate(t);
  if (!date) return '—';
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86_400), 'day');
}

/** "about 3 min left" for an ETA. */
export function formatEta(eta: Date | null, now = Date.now()): string | null {
  if (!eta) return null;
  const seconds = Math.max(0, Math.round((eta.getTime() - now) / 1000));
  if (seconds < 60) return 'less than a minute left';
  if (seconds < 3600) return `about ${Math.round(seconds / 60)} min left`;
  return `about ${Math.round(seconds / 3600)} h left`;
}

export function formatMoney(amount: number, currency: string | null): string {
  if (!currency) return amount.toLocaleString(undefined, { maximumFractionDigits: 2 });
  return new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: amount >= 1000 ? 0 : 2 }).format(amount);
}

export const formatCount = (n: number) => n.toLocaleString();

export const formatCompact = (n: number) => new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
