import type { Firestore, Query } from 'firebase-admin/firestore';
import { INTEGRATIONS_COLLECTION, type Cadence, type ProviderId } from '../schema/index.js';

/**
 * Every user's connected integrations of one platform with automation on at one cadence: what
 * the scheduler runs. Budgets count them and the freshness check narrows them by lastSyncedAt;
 * both have their composite index in firestore.indexes.json.
 */
export const scheduledIntegrations = (db: Firestore, providerId: ProviderId, cadence: Cadence): Query =>
  db
    .collectionGroup(INTEGRATIONS_COLLECTION)
    .where('status', '==', 'connected')
    .where('automation.enabled', '==', true)
    .where('automation.cadence', '==', cadence)
    .where('providerId', '==', providerId);
