import type { ProviderId } from './types.js';

export interface PinnedApiVersion {
  /** As it goes into the URL or the version header. */
  version: string;
  /** First day (UTC) the platform no longer serves this version, or null when none is published. */
  sunsetOn: string | null;
  /** Where the date was read, so the next person can check it again. */
  source: string;
  /** How far the date can be trusted. */
  note?: string;
}

/**
 * The one place each platform's API version is pinned. Moving to a newer version means
 * changing the row here (and what the version changed), see docs/operations.md.
 */
export const API_VERSIONS: Readonly<Record<ProviderId, PinnedApiVersion>> = Object.freeze({
  meta: {
    version: 'v25.0',
    sunsetOn: '2027-02-23',
    source: 'https://developers.facebook.com/documentation/ads-commerce/marketing-api/marketing-api-changelog/versions',
    note: 'Marketing API versions expire on their own schedule, about a year after release; Graph API versions live longer and do not apply to /insights.',
  },
  google: {
    version: 'v23',
    sunsetOn: '2027-02-01',
    source: 'https://developers.google.com/ads/blog/posts/2025/09/more-frequent-releases-coming-for',
    note: 'Published as "projected sunset: February 2027"; the first of the month is assumed until Google names the day.',
  },
  linkedin: {
    version: '202601',
    sunsetOn: '2027-01-15',
    source: 'https://learn.microsoft.com/en-us/linkedin/marketing/integrations/migrations',
  },
  tiktok: {
    version: 'v1.3',
    sunsetOn: null,
    source: 'https://business-api.tiktok.com/portal/docs',
    note: 'TikTok publishes no sunset date for v1.3.',
  },
});

export const SUNSET_WARNING_DAYS = 60;

export interface ApiVersionStatus extends PinnedApiVersion {
  provider: ProviderId;
  /** Whole days from `now` to the sunset (negative once past), or null without a published date. */
  daysLeft: number | null;
  /** Within SUNSET_WARNING_DAYS of the sunset, or past it. */
  expiring: boolean;
}

const DAY_MS = 86_400_000;

export function apiVersionStatus(now = Date.now(), warningDays = SUNSET_WARNING_DAYS): ApiVersionStatus[] {
  return (Object.keys(API_VERSIONS) as ProviderId[]).map((provider) => {
    const pinned = API_VERSIONS[provider];
    const daysLeft = pinned.sunsetOn === null ? null : Math.floor((Date.parse(`${pinned.sunsetOn}T00:00:00Z`) - now) / DAY_MS);
    return { provider, ...pinned, daysLeft, expiring: daysLeft !== null && daysLeft <= warningDays };
  });
}
