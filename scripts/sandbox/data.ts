import { createHash } from 'node:crypto';
import type { MetricRow, ProviderId, ReportKind } from '../../functions/src/providers/types.js';

/**
 * Deterministic ad data: every number is a hash of (provider, account, campaign, day[,
 * segment]), so any account id works, the same request always gets the same answer, and
 * tests can compute what a connector must return.
 */

/** Data exists from this day up to today (UTC). */
export const HISTORY_START = '2020-01-01';

export const DEMOGRAPHIC_SEGMENTS: ReadonlyArray<{ age: string; gender: string }> = ['18-24', '25-34', '35-44', '45-54', '55-64', '65+'].flatMap(
  (age) => ['female', 'male', 'unknown'].map((gender) => ({ age, gender })),
);

export const PLACEMENT_SEGMENTS: ReadonlyArray<{ publisherPlatform: string; platformPosition: string }> = [
  ['facebook', 'feed'],
  ['facebook', 'video_feeds'],
  ['facebook', 'right_hand_column'],
  ['instagram', 'stream'],
  ['instagram', 'story'],
  ['instagram', 'reels'],
  ['audience_network', 'classic'],
  ['messenger', 'messenger_inbox'],
].map(([publisherPlatform = '', platformPosition = '']) => ({ publisherPlatform, platformPosition }));

const CURRENCIES = ['USD', 'USD', 'USD', 'EUR', 'EUR', 'GBP', 'CAD', 'AUD', 'SEK', 'CHF'];
const THEMES = ['Spring Sale', 'Summer Launch', 'Black Friday', 'Brand Awareness', 'Retargeting', 'Prospecting', 'Holiday Gifts', 'App Installs', 'Webinar Signups', 'New Collection'];
const OBJECTIVES = ['Conversions', 'Traffic', 'Leads', 'Reach', 'Video Views', 'Sales'];
const REGIONS = ['US', 'UK', 'DACH', 'Nordics', 'FR', 'CA', 'AU', 'Global'];

function digest(parts: ReadonlyArray<string | number>): Buffer {
  return createHash('sha256').update(parts.join('|')).digest();
}

/** Uniform in [0, 1). */
export function unit(...parts: Array<string | number>): number {
  return digest(parts).readUInt32BE(0) / 2 ** 32;
}

function pick<T>(list: readonly T[], ...parts: Array<string | number>): T {
  return list[Math.floor(unit(...parts) * list.length)] as T;
}

/** n decimal digits, the first never 0. */
function digits(n: number, ...parts: Array<string | number>): string {
  const big = BigInt(`0x${digest(parts).toString('hex')}`);
  const body = (big % 10n ** BigInt(n - 1)).toString().padStart(n - 1, '0');
  return `${1 + (Number(big % 9n))}${body}`;
}

export interface CampaignProfile {
  id: string;
  name: string;
  /** Typical daily impressions. */
  reach: number;
  ctr: number;
  cvr: number;
  /** Cost per thousand impressions, in minor units of the account currency. */
  cpmCents: number;
}

export interface AccountProfile {
  provider: ProviderId;
  accountId: string;
  name: string;
  currency: string;
  campaigns: CampaignProfile[];
}

const CAMPAIGN_ID_DIGITS: Record<ProviderId, number> = { meta: 18, google: 11, linkedin: 9, tiktok: 19 };

export function accountProfile(provider: ProviderId, accountId: string): AccountProfile {
  const count = 3 + Math.floor(unit(provider, accountId, 'campaigns') * 6);
  const campaigns = Array.from({ length: count }, (_, i): CampaignProfile => {
    const key = [provider, accountId, 'campaign', i] as const;
    return {
      id: digits(CAMPAIGN_ID_DIGITS[provider], ...key, 'id'),
      name: `${pick(THEMES, ...key, 'theme')} | ${pick(OBJECTIVES, ...key, 'objective')} | ${pick(REGIONS, ...key, 'region')}`,
      reach: 800 + Math.floor(unit(...key, 'reach') * 40_000),
      ctr: 0.004 + unit(...key, 'ctr') * 0.03,
      cvr: 0.01 + unit(...key, 'cvr') * 0.09,
      cpmCents: 200 + Math.floor(unit(...key, 'cpm') * 1800),
    };
  });
  return {
    provider,
    accountId,
    name: `${pick(THEMES, provider, accountId, 'account')} Account ${accountId.slice(-4)}`,
    currency: pick(CURRENCIES, provider, accountId, 'currency'),
    campaigns,
  };
}

export interface DayTotals {
  impressions: number;
  clicks: number;
  conversions: number;
  /** Minor units (cents) of the account currency. */
  spendCents: number;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** A campaign's numbers for one day, or null when it did not run (paused month, dark day, outside history). */
export function dayTotals(profile: AccountProfile, campaign: CampaignProfile, date: string): DayTotals | null {
  if (date < HISTORY_START || date > today()) return null;
  const key = [profile.provider, profile.accountId, campaign.id] as const;
  if (unit(...key, 'month', date.slice(0, 7)) < 0.12 || unit(...key, 'day', date) < 0.06) return null;
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  const weekFactor = weekday === 0 || weekday === 6 ? 0.75 : 1;
  const impressions = Math.max(1, Math.round(campaign.reach * weekFactor * (0.6 + 0.8 * unit(...key, 'impressions', date))));
  const clicks = Math.min(impressions, Math.floor(impressions * campaign.ctr * (0.7 + 0.6 * unit(...key, 'clicks', date))));
  const conversions = Math.min(clicks, Math.floor(clicks * campaign.cvr * (0.5 + unit(...key, 'conversions', date))));
  const spendCents = Math.round((impressions * campaign.cpmCents * (0.85 + 0.3 * unit(...key, 'spend', date))) / 1000);
  return { impressions, clicks, conversions, spendCents };
}

/** Splits a day among segments by stable per-campaign weights; segments with no impressions are left out. */
export function segmentTotals(profile: AccountProfile, campaign: CampaignProfile, date: string, kind: 'demographics' | 'placement'): Array<{ index: number; totals: DayTotals }> {
  const day = dayTotals(profile, campaign, date);
  if (!day) return [];
  const count = kind === 'demographics' ? DEMOGRAPHIC_SEGMENTS.length : PLACEMENT_SEGMENTS.length;
  const key = [profile.provider, profile.accountId, campaign.id, kind] as const;
  const weights = Array.from({ length: count }, (_, i) => unit(...key, i) ** 2 * (0.7 + 0.6 * unit(...key, i, date)));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.flatMap((w, index) => {
    const share = w / total;
    const impressions = Math.floor(day.impressions * share);
    if (impressions === 0) return [];
    const clicks = Math.min(impressions, Math.floor(day.clicks * share));
    const conversions = Math.min(clicks, Math.floor(day.conversions * share));
    return [{ index, totals: { impressions, clicks, conversions, spendCents: Math.floor(day.spendCents * share) } }];
  });
}

export function eachDate(start: string, end: string): string[] {
  const dates: string[] = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += 86_400_000) {
    dates.push(new Date(t).toISOString().slice(0, 10));
  }
  return dates;
}

/** TikTok: the first campaign of every advertiser has no conversion event, so TikTok reports its conversions as "-". */
export function tracksConversions(profile: AccountProfile, campaign: CampaignProfile): boolean {
  return profile.provider !== 'tiktok' || campaign !== profile.campaigns[0];
}

/** What a correct connector returns for this report: ordered by date, campaign, segment. */
export function expectedRows(provider: ProviderId, accountId: string, kind: ReportKind, window: { start: string; end: string }): MetricRow[] {
  const profile = accountProfile(provider, accountId);
  const rows: MetricRow[] = [];
  for (const date of eachDate(window.start, window.end)) {
    for (const campaign of profile.campaigns) {
      const base = { provider, accountId, campaignId: campaign.id, campaignName: campaign.name, date, currency: profile.currency };
      const values = (t: DayTotals) => ({
        impressions: t.impressions,
        clicks: t.clicks,
        conversions: tracksConversions(profile, campaign) ? t.conversions : 0,
        spend: t.spendCents / 100,
      });
      if (kind === 'campaign-daily') {
        const t = dayTotals(profile, campaign, date);
        if (t) rows.push({ kind, ...base, ...values(t) });
      } else if (kind === 'demographics') {
        for (const s of segmentTotals(profile, campaign, date, kind)) {
          rows.push({ kind, ...base, ...values(s.totals), breakdown: { ...(DEMOGRAPHIC_SEGMENTS[s.index] as { age: string; gender: string }) } });
        }
      } else {
        for (const s of segmentTotals(profile, campaign, date, kind)) {
          const seg = PLACEMENT_SEGMENTS[s.index] as { publisherPlatform: string; platformPosition: string };
          rows.push({ kind, ...base, ...values(s.totals), breakdown: { ...seg } });
        }
      }
    }
  }
  return rows;
}

/** Money as the platforms print it: "123.45". */
export function formatCents(cents: number): string {
  return (cents / 100).toFixed(2);
}
