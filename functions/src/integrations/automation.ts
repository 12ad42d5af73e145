import { Timestamp } from 'firebase-admin/firestore';
import type { AppContext } from '../context.js';
import { NotFoundError } from '../errors.js';
import { nextRunFor } from '../scheduler/cadence.js';
import { PROVIDER_LABELS, type Automation, type AutomationResponse, type ProviderId } from '../schema/index.js';
import { integrationRef } from '../sync/store.js';

/**
 * Sets an integration's automation on its owner's behalf (an admin action). The next run is
 * recomputed in the same write, exactly as firestore.rules require of the owner's own writes.
 */
export async function setAutomation(ctx: AppContext, userId: string, providerId: ProviderId, automation: Automation): Promise<AutomationResponse> {
  const ref = integrationRef(ctx.db, userId, providerId);
  const nextRunAt = nextRunFor(automation, new Date());
  // A transaction, not a fenced update: a concurrent write (another save, a sync's result)
  // makes it read again and retry instead of failing; the last save wins.
  await ctx.db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    if (!snap.exists) throw new NotFoundError(`user ${userId} has no ${PROVIDER_LABELS[providerId]} integration`, 'providerId');
    tx.update(ref, { automation, nextRunAt: nextRunAt ? Timestamp.fromDate(nextRunAt) : null });
  });
  return { automation, nextRunAt: nextRunAt?.toISOString() ?? null };
}
