import { collection, limit, orderBy, query, where } from 'firebase/firestore';
import { useMemo } from 'react';
import { integrationDocumentSchema, integrationsPath, jobDocumentSchema, type IntegrationDocument, type Job, type ProviderId } from '@functions/schema/index.js';
import { db } from '../firebase';
import { useLiveQuery, type Live } from './useLive';

export type Integration = IntegrationDocument & { providerId: ProviderId };

/** Documents that do not match the schema are left out rather than crashing a view. */
export function parseJobs(docs: { id: string; data(): unknown }[]): Job[] {
  return docs.flatMap((d) => {
    const parsed = jobDocumentSchema.safeParse(d.data());
    return parsed.success ? [{ id: d.id, ...parsed.data }] : [];
  });
}

export function parseIntegrations(docs: { data(): unknown }[]): Integration[] {
  return docs.flatMap((d) => {
    const parsed = integrationDocumentSchema.safeParse(d.data());
    return parsed.success ? [parsed.data] : [];
  });
}

/** A user's integrations, keyed by platform. */
export function useIntegrations(uid: string | null): Live<Map<ProviderId, Integration>> {
  const q = useMemo(() => (uid ? collection(db, integrationsPath(uid)) : null), [uid]);
  return useLiveQuery(q, `integrations:${uid}`, (docs) => new Map(parseIntegrations(docs).map((i) => [i.providerId, i])), new Map());
}

const RECENT_JOBS = 30;

/** A user's most recent jobs, newest first: what the cards show live. */
export function useUserJobs(uid: string | null): Live<Job[]> {
  const q = useMemo(
    () => (uid ? query(collection(db, 'syncJobs'), where('userId', '==', uid), orderBy('createdAt', 'desc'), limit(RECENT_JOBS)) : null),
    [uid],
  );
  return useLiveQuery(q, `jobs:${uid}`, parseJobs, []);
}

