import { stretched } from '@functions/scheduler/cadence.js';
import { PROVIDER_LABELS, type Automation, type PlatformBudgetDocument, type ProviderId } from '@functions/schema/index.js';

const EVERY: Record<Automation['cadence'], string> = { hourly: 'every hour', every6h: 'every 6 hours', daily: 'once a day', weekly: 'once a week' };

/**
 * What the card says when the platform's daily request budget holds this integration's
 * scheduled syncs back today; null when it does not (no budget, another day's plan, automation off).
 */
export function budgetNotice(providerId: ProviderId, automation: Automation, plan: PlatformBudgetDocument | undefined, now: number): string | null {
  if (!plan || !automation.enabled || plan.day !== new Date(now).toISOString().slice(0, 10)) return null;
  const label = PROVIDER_LABELS[providerId];
  if (plan.reserveReached) {
    return `The Ads Hub's daily request limit at ${label} is nearly used up: scheduled syncs wait until midnight UTC, when it starts again. Sync now still works.`;
  }
  const runsAt = stretched(automation.cadence, plan.stretchedTo);
  if (runsAt === automation.cadence) return null;
  return `The Ads Hub's daily request limit at ${label} is running short today: your syncs run ${EVERY[runsAt]} instead of ${EVERY[automation.cadence]} until midnight UTC. Sync now still works.`;
}
