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
  const snap = await ref.get();
  if (!snap.exists) throw new NotFoundError(`user ${userId} has no ${PROVIDER_LABELS[providerId]} integration`, 'providerId');
  const nextRunAt = nextRunFor(automation, new Date());
  await ref.update({ automation, nextRunAt: nextRunAt ? Timestamp.fromDate(nextRunAt) : null }, { lastUpdateTime: snap.updateTime! });
  return { automation, nextRunAt: nextRunAt?.toISOString() ?? null };
}
