import type { ProviderId } from './common.js';

/**
 * Where the ads domain's documents live: the one place their paths are spelled, for the
 * functions (Admin SDK), the Ads Hub (web SDK), tests and scripts. The job queue's own
 * collections (jobs, locks, circuits) belong to the queue.
 */

export const USERS_COLLECTION = 'users';
/** A user's integrations; also queried as a collection group across users. */
export const INTEGRATIONS_COLLECTION = 'integrations';
/** Under a user: one campaign's days of one report kind in one month. */
export const METRIC_MONTHS_COLLECTION = 'metricMonths';
/** Under a user: one account's campaign-daily numbers for one month, what the Ads Hub's chart reads. */
export const METRIC_TOTALS_COLLECTION = 'metricTotals';
/** Server-only (firestore.rules deny every client): tokens never sit in a readable document. */
export const CREDENTIALS_COLLECTION = 'providerCredentials';
/** "Start this user's jobs now", written with the job it is for. */
export const START_REQUESTS_COLLECTION = 'jobStartRequests';
export const QUOTA_USAGE_COLLECTION = 'quotaUsage';
export const PLATFORM_BUDGETS_COLLECTION = 'platformBudgets';
export const OAUTH_STATES_COLLECTION = 'oauthStates';
export const PENDING_CONNECTIONS_COLLECTION = 'pendingConnections';
/** The scheduler's document: its events and circuits live below it. */
export const SCHEDULER_PATH = 'admin/scheduler';
export const EVENTS_COLLECTION_PATH = `${SCHEDULER_PATH}/events`;
/** ADMIN_EMAILS mirrored for the security rules. */
export const ADMIN_ACCESS_PATH = 'admin/access';
export const ALERT_SETTINGS_PATH = 'admin/alertSettings';
export const ALERT_STATES_PATH = 'admin/alerts/alertStates';

export const userPath = (userId: string) => `${USERS_COLLECTION}/${userId}`;
export const integrationsPath = (userId: string) => `${userPath(userId)}/${INTEGRATIONS_COLLECTION}`;
export const integrationPath = (userId: string, providerId: ProviderId) => `${integrationsPath(userId)}/${providerId}`;
export const metricMonthsPath = (userId: string) => `${userPath(userId)}/${METRIC_MONTHS_COLLECTION}`;
export const metricTotalsPath = (userId: string) => `${userPath(userId)}/${METRIC_TOTALS_COLLECTION}`;
export const credentialsPath = (userId: string, providerId: ProviderId) => `${CREDENTIALS_COLLECTION}/${userId}__${providerId}`;
export const startRequestPath = (userId: string) => `${START_REQUESTS_COLLECTION}/${userId}`;
/** One of a platform's 16 sharded request counters of one UTC day. */
export const quotaUsagePath = (providerId: ProviderId, day: string, shard: number) => `${QUOTA_USAGE_COLLECTION}/${providerId}_${day}_${shard}`;
export const platformBudgetPath = (providerId: ProviderId) => `${PLATFORM_BUDGETS_COLLECTION}/${providerId}`;
export const oauthStatePath = (state: string) => `${OAUTH_STATES_COLLECTION}/${state}`;
export const pendingConnectionPath = (userId: string, providerId: ProviderId) => `${PENDING_CONNECTIONS_COLLECTION}/${userId}__${providerId}`;
