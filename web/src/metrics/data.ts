import { collection, orderBy, query, where, type DocumentSnapshot } from 'firebase/firestore';
import { useMemo } from 'react';
import { metricTotalsPath, metricTotalsSchema, monthOf, type ProviderId } from '@functions/schema/index.js';
import { db } from '../firebase';
import { useQueryOnce, type Live } from '../live/useLive';

/**
 * The only module that knows how metrics are stored. Views ask for a platform's daily series
 * and campaign totals over a window and get plain numbers back, so the storage layout
 * (one document per account and month under users/{uid}/metricTotals, each day's numbers
 * per campaign) can change here alone.
 */
export interface DailyPoint {
  date: string;
  spend: number;
  impressions: number;
  clicks: number;
}

export interface CampaignTotals {
  campaignId: string;
  campaignName: string;
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
}

export interface PlatformMetrics {
  /** One point per day of the window, days without delivery as zeros. */
  daily: DailyPoint[];
  /** Highest spend first. */
  campaigns: CampaignTotals[];
  totals: Omit<CampaignTotals, 'campaignId' | 'campaignName'>;
  currency: string | null;
  /** Days in the window that have any data. */
  daysWithData: number;
}

export interface MetricsRequest {
  uid: string;
  providerId: ProviderId;
  accountId: string;
  /** Inclusive, YYYY-MM-DD, in the account's timezone. */
  start: string;
  end: string;
}

const EMPTY: PlatformMetrics = { daily: [], campaigns: [], totals: { spend: 0, impressions: 0, clicks: 0, conversions: 0 }, currency: null, daysWithData: 0 };

function eachDay(start: string, end: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** Rounds away float noise from summing currency amounts. */
const money = (n: number) => Math.round(n * 100) / 100;

/**
 * Sums the account's monthly totals documents over the window: a day's points across its
 * campaigns for the chart, each campaign's days for the table.
 */
export function summarize(docs: DocumentSnapshot[], start: string, end: string): PlatformMetrics {
  const byDay = new Map(eachDay(start, end).map((date) => [date, { date, spend: 0, impressions: 0, clicks: 0 }]));
  const campaigns = new Map<string, CampaignTotals>();
  let currency: string | null = null;
  for (const d of docs) {
    const parsed = metricTotalsSchema.safeParse(d.data());
    if (!parsed.success) continue;
    const month = parsed.data;
    currency ??= month.currency;
    for (const [date, byCampaign] of Object.entries(month.days)) {
      const day = byDay.get(date);
      if (!day) continue;
      for (const [campaignId, [spend, impressions, clicks, conversions]] of Object.entries(byCampaign)) {
        day.spend += spend;
        day.impressions += impressions;
        day.clicks += clicks;
        const c = campaigns.get(campaignId) ?? { campaignId, campaignName: month.campaigns[campaignId] ?? campaignId, spend: 0, impressions: 0, clicks: 0, conversions: 0 };
        c.spend += spend;
        c.impressions += impressions;
        c.clicks += clicks;
        c.conversions += conversions;
        campaigns.set(campaignId, c);
      }
    }
  }
  const daily = [...byDay.values()].map((p) => ({ ...p, spend: money(p.spend) }));
  const list = [...campaigns.values()].map((c) => ({ ...c, spend: money(c.spend), conversions: money(c.conversions) })).sort((a, b) => b.spend - a.spend);
  const totals = list.reduce(
    (t, c) => ({ spend: money(t.spend + c.spend), impressions: t.impressions + c.impressions, clicks: t.clicks + c.clicks, conversions: money(t.conversions + c.conversions) }),
    EMPTY.totals,
  );
  return { daily, campaigns: list, totals, currency, daysWithData: daily.filter((p) => p.impressions > 0 || p.spend > 0).length };
}

/**
 * A platform's metrics over the window, read again whenever `version` changes (the caller
 * passes what its listeners know: the last sync time, a backfill's progress). Read, not
 * listened to: a sync writes its rows in bulk, and a listener would push each one to every
 * open browser (on the emulator, one open listener made 500 metric writes take 16.7 s
 * instead of 0.8 s).
 */
export function usePlatformMetrics(request: MetricsRequest | null, version: string): Live<PlatformMetrics> {
  const key = request ? `${request.uid}:${request.providerId}:${request.accountId}:${request.start}:${request.end}` : 'none';
  const q = useMemo(() => {
    if (!request) return null;
    // The account's months the window touches: at most four documents for 90 days.
    return query(
      collection(db, metricTotalsPath(request.uid)),
      where('provider', '==', request.providerId),
      where('accountId', '==', request.accountId),
      where('month', '>=', monthOf(request.start)),
      where('month', '<=', monthOf(request.end)),
      orderBy('month'),
    );
    // The key names every part of the request.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return useQueryOnce(q, key, version, (docs) => (request ? summarize(docs, request.start, request.end) : EMPTY), EMPTY);
}
