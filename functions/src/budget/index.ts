export { STRETCH_ORDER, budgetDayOf, nextBudgetDay, planBudget, retryAllowed, runsBetween, stretchedNextRun } from './plan.js';
export type { BudgetInput, BudgetPlan } from './plan.js';
export {
  callsPerSync,
  countDueBefore,
  countRequestedSince,
  countScheduled,
  loadBudgetPlans,
  planPlatformBudget,
  platformBudgetRef,
  readUsage,
  recordUsage,
} from './store.js';
export type { Usage } from './store.js';
