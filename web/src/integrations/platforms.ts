import { PROVIDER_IDS, PROVIDER_LABELS, RESTATEMENT_DAYS, type ProviderId } from '@functions/schema/index.js';

export { PROVIDER_IDS, PROVIDER_LABELS, RESTATEMENT_DAYS };

/** Brand accents for the cards; the text never relies on colour alone. */
export const PROVIDER_COLORS: Record<ProviderId, string> = {
  google: '#1a73e8',
  meta: '#0866ff',
  linkedin: '#0a66c2',
  tiktok: '#111111',
};

export const PROVIDER_INITIALS: Record<ProviderId, string> = { google: 'G', meta: 'M', linkedin: 'in', tiktok: 'T' };

/** How each platform writes its account ids, for people who know them that way. */
export function displayAccountId(providerId: ProviderId, id: string): string {
  if (providerId === 'google' && /^\d{10}$/.test(id)) return `${id.slice(0, 3)}-${id.slice(3, 6)}-${id.slice(6)}`;
  if (providerId === 'meta') return `act_${id}`;
  return id;
}

const CONNECTING_KEY = 'ads-hub:connecting:';

/** The platform's redirect comes back to one callback page; the state says which platform it was. */
export function rememberConnecting(authorizeUrl: string, providerId: ProviderId): void {
  const state = new URL(authorizeUrl).searchParams.get('state');
  if (state) sessionStorage.setItem(CONNECTING_KEY + state, providerId);
}

export function connectingProvider(state: string): ProviderId | null {
  const value = sessionStorage.getItem(CONNECTING_KEY + state);
  return (PROVIDER_IDS as readonly string[]).includes(value ?? '') ? (value as ProviderId) : null;
}
