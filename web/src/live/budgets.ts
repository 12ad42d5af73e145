import { collection } from 'firebase/firestore';
import { useMemo } from 'react';
import { PLATFORM_BUDGETS_COLLECTION, platformBudgetDocumentSchema, type PlatformBudgetDocument, type ProviderId } from '@functions/schema/index.js';
import { db } from '../firebase';
import { useLiveQuery, type Live } from './useLive';

/** The scheduler's plan for each platform's daily request budget (platforms without a budget have none). */
export function useBudgetPlans(signedIn: boolean): Live<Map<ProviderId, PlatformBudgetDocument>> {
  const q = useMemo(() => (signedIn ? collection(db, PLATFORM_BUDGETS_COLLECTION) : null), [signedIn]);
  return useLiveQuery(
    q,
    `platformBudgets:${signedIn}`,
    (docs) =>
      new Map(
        docs.flatMap((d) => {
          const parsed = platformBudgetDocumentSchema.safeParse(d.data());
          return parsed.success ? [[parsed.data.providerId, parsed.data] as const] : [];
        }),
      ),
    new Map(),
  );
}
