import { collection, collectionGroup, getCountFromServer, limit, orderBy, query, where, type QueryConstraint } from 'firebase/firestore';
import { useEffect, useMemo, useState } from 'react';
import { EVENTS_COLLECTION_PATH, INTEGRATIONS_COLLECTION, JOB_STATUSES, PROVIDER_IDS, USERS_COLLECTION, schedulerEventSchema, type Job, type JobStatus, type ProviderId, type SchedulerEvent } from '@functions/schema/index.js';
import { db } from '../firebase';
import { parseIntegrations, parseJobs, type Integration } from '../live/user';
import { useLiveQuery, type Live } from '../live/useLive';

export interface JobFilters {
  status: JobStatus | null;
  providerId: ProviderId | null;
  userId: string;
}

const JOBS_SHOWN = 50;

/** The jobs list, newest first, filtered by status, platform and user (each combination has its index). */
export function useAdminJobs(filters: JobFilters): Live<Job[]> {
  const userId = filters.userId.trim();
  const key = `${filters.status}:${filters.providerId}:${userId}`;
  const q = useMemo(() => {
    const constraints: QueryConstraint[] = [];
    if (filters.status) constraints.push(where('status', '==', filters.status));
    if (filters.providerId) constraints.push(where('providerId', '==', filters.providerId));
    if (userId) constraints.push(where('userId', '==', userId));
    return query(collection(db, 'syncJobs'), ...constraints, orderBy('createdAt', 'desc'), limit(JOBS_SHOWN));
    // The key names every filter.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return useLiveQuery(q, `admin-jobs:${key}`, parseJobs, []);
}

export type QueueCounts = Record<JobStatus, Record<ProviderId | 'all', number>>;

/**
 * Jobs per status and platform. Counts are aggregation queries, which have no listener: they
 * are taken again whenever `version` changes, and the caller derives it from the live jobs
 * and events listeners, so the table follows the queue without polling.
 */
export function useQueueCounts(version: string): { counts: QueueCounts | null; error: Error | null } {
  const [state, setState] = useState<{ counts: QueueCounts | null; error: Error | null }>({ counts: null, error: null });
  useEffect(() => {
    let cancelled = false;
    const timer = setTimeout(() => {
      const jobs = collection(db, 'syncJobs');
      const cells = JOB_STATUSES.flatMap((status) =>
        (['all', ...PROVIDER_IDS] as const).map(async (providerId) => {
          const q = providerId === 'all' ? query(jobs, where('status', '==', status)) : query(jobs, where('status', '==', status), where('providerId', '==', providerId));
          return { status, providerId, count: (await getCountFromServer(q)).data().count };
        }),
      );
      Promise.all(cells)
        .then((results) => {
          if (cancelled) return;
          const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, { all: 0, google: 0, meta: 0, linkedin: 0, tiktok: 0 }])) as QueueCounts;
          for (const r of results) counts[r.status][r.providerId] = r.count;
          setState({ counts, error: null });
        })
        .catch((error: unknown) => !cancelled && setState((s) => ({ ...s, error: error instanceof Error ? error : new Error(String(error)) })));
      // Bursts of changes (a worker finishing ten jobs) count once.
    }, 400);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [version]);
  return state;
}

export type EventRow = SchedulerEvent & { id: string };

export function useSchedulerEvents(count = 40): Live<EventRow[]> {
  const q = useMemo(() => query(collection(db, EVENTS_COLLECTION_PATH), orderBy('at', 'desc'), limit(count)), [count]);
  return useLiveQuery(
    q,
    `events:${count}`,
    (docs) =>
      docs.flatMap((d) => {
        const parsed = schedulerEventSchema.safeParse(d.data());
        return parsed.success ? [{ id: d.id, ...parsed.data }] : [];
      }),
    [],
  );
}

export interface Circuit {
  providerId: ProviderId;
  consecutiveFailures: number;
  openUntil: Date | null;
  lastError: string | null;
  /** 'rate-limit': paused for a platform limit of its own, not for failures. */
  pausedBy: string | null;
}

export function useCircuits(): Live<Circuit[]> {
  const q = useMemo(() => collection(db, 'admin', 'scheduler', 'circuits'), []);
  return useLiveQuery(
    q,
    'circuits',
    (docs) =>
      docs
        .filter((d) => (PROVIDER_IDS as readonly string[]).includes(d.id))
        .map((d) => ({
          providerId: d.id as ProviderId,
          consecutiveFailures: (d.get('consecutiveFailures') as number | undefined) ?? 0,
          openUntil: (d.get('openUntil') as { toDate(): Date } | null | undefined)?.toDate() ?? null,
          lastError: (d.get('lastError') as string | null | undefined) ?? null,
          pausedBy: (d.get('pausedBy') as string | null | undefined) ?? null,
        })),
    [],
  );
}

/** Integrations across all users that wait for their owner to reconnect. */
export function useErrorIntegrations(): Live<Integration[]> {
  const q = useMemo(() => query(collectionGroup(db, INTEGRATIONS_COLLECTION), where('status', '==', 'error'), limit(50)), []);
  return useLiveQuery(q, 'error-integrations', parseIntegrations, []);
}

export interface UserRow {
  uid: string;
  email: string;
  displayName: string;
}

/** Users whose email starts with the search text. */
export function useUsers(search: string): Live<UserRow[]> {
  const prefix = search.trim().toLowerCase();
  const q = useMemo(() => {
    const users = collection(db, USERS_COLLECTION);
    return prefix ? query(users, where('email', '>=', prefix), where('email', '<', `${prefix}\uf8ff`), orderBy('email'), limit(12)) : query(users, orderBy('email'), limit(12));
  }, [prefix]);
  return useLiveQuery(
    q,
    `users:${prefix}`,
    (docs) => docs.map((d) => ({ uid: d.id, email: String(d.get('email') ?? ''), displayName: String(d.get('displayName') ?? '') })),
    [],
  );
}
