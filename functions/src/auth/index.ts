import { createHash, timingSafeEqual } from 'node:crypto';
import type { Auth, DecodedIdToken } from 'firebase-admin/auth';

/**
 * Constant-time comparison. Both sides are hashed first: timingSafeEqual throws on
 * different lengths, which would itself leak the secret's length.
 */
export function cronKeyMatches(presented: string | undefined, secret: string | null): boolean {
  if (!secret || !presented) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

/**
 * True when the presented key matches any accepted key (the current one, and the next one
 * during a rotation). Every key is compared, so the time taken does not say which matched.
 */
export function cronKeyMatchesAny(presented: string | undefined, accepted: readonly (string | null)[]): boolean {
  let matched = false;
  for (const secret of accepted) matched = cronKeyMatches(presented, secret) || matched;
  return matched;
}

export function bearerToken(authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  return match?.[1] ?? null;
}

/** Verifies signature, expiry, revocation and disabled users. Null when any check fails. */
export async function verifyIdToken(auth: Auth, token: string): Promise<DecodedIdToken | null> {
  try {
    return await auth.verifyIdToken(token, true);
  } catch {
    return null;
  }
}

/** Admin: an `admin: true` custom claim, or a verified email on the ADMIN_EMAILS list. */
export function isAdmin(token: DecodedIdToken, adminEmails: readonly string[]): boolean {
  if (token.admin === true) return true;
  const email = token.email?.toLowerCase();
  return token.email_verified === true && email !== undefined && adminEmails.includes(email);
}
