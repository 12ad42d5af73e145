import { Timestamp, updateDoc, doc } from 'firebase/firestore';
import { nextRunFor } from '@functions/scheduler/cadence.js';
import { automationSchema, integrationPath, type Automation, type ProviderId } from '@functions/schema/index.js';
import { db } from '../firebase';

/**
 * Saves the owner's automation. A new cadence or switch position takes effect at once: the
 * next run is recomputed on the scheduler's own grid in the same write, and firestore.rules
 * accept exactly that pair. A new lookback alone leaves the next run where it was.
 */
export async function saveAutomation(uid: string, providerId: ProviderId, current: Automation, next: Automation): Promise<void> {
  const valid = automationSchema.parse(next);
  const scheduleChanged = valid.enabled !== current.enabled || valid.cadence !== current.cadence;
  const nextRun = nextRunFor(valid, new Date());
  await updateDoc(doc(db, integrationPath(uid, providerId)), {
    automation: valid,
    ...(scheduleChanged ? { nextRunAt: nextRun ? Timestamp.fromDate(nextRun) : null } : {}),
  });
}
