import { Suspense, lazy, useEffect, useId, useState } from 'react';
import { JOB_STATUSES, estimateFinish, type Job, type JobStatus, type ProviderId } from '@functions/schema/index.js';
import { api, errorText } from '../api';
import { formatDateTime, formatEta, formatRelative } from '../components/format';
import { Alert, Button, Pill, Progress, SelectField, TableScroll, useNow } from '../components/ui';
import { AutomationControls } from '../integrations/AutomationControls';
import { JOB_TYPE_LABELS, STATUS_LABELS, STATUS_TONES, isActive, readableError } from '../integrations/JobStatus';
import { PROVIDER_IDS, PROVIDER_LABELS } from '../integrations/platforms';
import { useIntegrations } from '../live/user';
import { AlertSettings } from './AlertSettings';
import { useAdminJobs, useCircuits, useErrorIntegrations, useQueueCounts, useSchedulerEvents, useUsers, type JobFilters } from './data';

const EventsChart = lazy(() => import('./EventsChart'));

const PLATFORM_OPTIONS = PROVIDER_IDS.map((p) => ({ value: p, label: PROVIDER_LABELS[p] }));

function QueueCounts({ version }: { version: string }) {
  const { counts, error } = useQueueCounts(version);
  if (error) return <Alert tone="error">Counts could not be loaded: {error.message}</Alert>;
  return (
    <TableScroll label="Jobs by status and platform">
      <table className="table table-compact" data-testid="queue-counts">
        <caption className="visually-hidden">Jobs by status and platform</caption>
        <thead>
          <tr>
            <th scope="col">Status</th>
            {PROVIDER_IDS.map((p) => (
              <th key={p} scope="col" className="num">
                {PROVIDER_LABELS[p]}
              </th>
            ))}
            <th scope="col" className="num">
              All
            </th>
          </tr>
        </thead>
        <tbody>
          {JOB_STATUSES.map((s) => (
            <tr key={s} data-status={s}>
              <th scope="row">
                <Pill tone={STATUS_TONES[s]}>{STATUS_LABELS[s]}</Pill>
              </th>
              {PROVIDER_IDS.map((p) => (
                <td key={p} className="num">
                  {counts ? counts[s][p] : '…'}
                </td>
              ))}
              <td className="num strong" data-testid={`count-${s}`}>
                {counts ? counts[s].all : '…'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

function ScheduleAll() {
  const [providerId, setProviderId] = useState<ProviderId | 'all'>('all');
  const [result, setResult] = useState<{ tone: 'info' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setResult(null);
    try {
      await api.admin.scheduleAllUsers(providerId === 'all' ? null : providerId);
      setResult({ tone: 'info', text: `Queued: a manual sync of ${providerId === 'all' ? 'every platform' : PROVIDER_LABELS[providerId]} for every connected user, fanned out by the workers.` });
    } catch (e) {
      setResult({ tone: 'error', text: errorText(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <SelectField
        label="Platform"
        value={providerId}
        options={[{ value: 'all', label: 'All platforms' }, ...PLATFORM_OPTIONS]}
        onChange={(v) => setProviderId(v as ProviderId | 'all')}
      />
      <Button type="submit" variant="primary" busy={busy}>
        Schedule sync for all users
      </Button>
      {result && <Alert tone={result.tone}>{result.text}</Alert>}
    </form>
  );
}

function JobActions({ job, onError }: { job: Job; onError: (text: string | null) => void }) {
  const [busy, setBusy] = useState(false);
  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    onError(null);
    try {
      await action();
    } catch (e) {
      onError(`Job ${job.id}: ${errorText(e)}`);
    } finally {
      setBusy(false);
    }
  };
  if (job.status === 'failed') {
    return (
      <Button busy={busy} onClick={() => void act(() => api.admin.retry(job.id))} aria-label={`Retry job ${job.id}`}>
        Retry
      </Button>
    );
  }
  if (isActive(job)) {
    return (
      <Button variant="danger" busy={busy} onClick={() => void act(() => api.admin.cancel(job.id))} aria-label={`Cancel job ${job.id}`}>
        Cancel
      </Button>
    );
  }
  return null;
}

function JobsTable({ jobs, now, onError }: { jobs: Job[]; now: number; onError: (text: string | null) => void }) {
  if (jobs.length === 0) return <p className="empty">No jobs match these filters.</p>;
  return (
    <TableScroll label="Jobs">
      <table className="table" data-testid="jobs-table">
        <caption className="visually-hidden">Jobs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">User</th>
            <th scope="col">Platform</th>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">Attempts</th>
            <th scope="col">Progress</th>
            <th scope="col">Last error</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => {
            const eta = formatEta(estimateFinish(job, now), now);
            return (
              <tr key={job.id} data-job-id={job.id} data-status={job.status} data-type={job.jobType}>
                <td title={formatDateTime(job.createdAt)}>{formatRelative(job.createdAt, now)}</td>
                <td className="mono small">{job.userId}</td>
                <td>{job.providerId ? PROVIDER_LABELS[job.providerId] : 'All'}</td>
                <td>{JOB_TYPE_LABELS[job.jobType]}</td>
                <td>
                  <Pill tone={STATUS_TONES[job.status]}>{STATUS_LABELS[job.status]}</Pill>
                </td>
                <td className="num">
                  {job.attempts}/{job.maxAttempts}
                </td>
                <td className="progress-cell">
                  {job.progress && job.progress.total > 1 ? (
                    <>
                      <Progress done={job.progress.done} total={job.progress.total} label={`Job ${job.id} progress`} />
                      <span className="small muted">
                        {job.progress.done}/{job.progress.total}
                        {eta ? ` · ${eta}` : ''}
                      </span>
                    </>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td className="error-cell small">{job.lastError ? readableError(job.lastError) : ''}</td>
                <td>
                  <JobActions job={job} onError={onError} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </TableScroll>
  );
}

function JobsSection({ onVersion }: { onVersion: (version: string) => void }) {
  const id = useId();
  const now = useNow(15_000);
  const [filters, setFilters] = useState<JobFilters>({ status: null, providerId: null, userId: '' });
  const [error, setError] = useState<string | null>(null);
  const jobs = useAdminJobs(filters);
  const version = jobs.data.map((j) => `${j.id}:${j.status}`).join(',');
  useEffect(() => onVersion(version), [version, onVersion]);
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Jobs</h2>
      <div className="filters">
        <SelectField
          label="Status"
          value={filters.status ?? ''}
          options={[{ value: '', label: 'Any status' }, ...JOB_STATUSES.map((st) => ({ value: st, label: STATUS_LABELS[st] }))]}
          onChange={(v) => setFilters({ ...filters, status: (v || null) as JobStatus | null })}
        />
        <SelectField
          label="Platform"
          value={filters.providerId ?? ''}
          options={[{ value: '', label: 'Any platform' }, ...PLATFORM_OPTIONS]}
          onChange={(v) => setFilters({ ...filters, providerId: (v || null) as ProviderId | null })}
        />
        <label className="field field-inline" htmlFor={`${id}-user`}>
          <span>User id</span>
          <input id={`${id}-user`} type="search" placeholder="Any user" value={filters.userId} onChange={(e) => setFilters({ ...filters, userId: e.target.value })} />
        </label>
      </div>
      {error && <Alert tone="error">{error}</Alert>}
      {jobs.error ? <Alert tone="error">Jobs could not be loaded: {jobs.error.message}</Alert> : jobs.loading ? <p className="muted">Loading jobs…</p> : <JobsTable jobs={jobs.data} now={now} onError={setError} />}
    </section>
  );
}

function EventsSection({ now }: { now: number }) {
  const id = useId();
  const events = useSchedulerEvents();
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Scheduler runs</h2>
      {events.error ? (
        <Alert tone="error">Events could not be loaded: {events.error.message}</Alert>
      ) : events.data.length === 0 ? (
        <p className="empty">{events.loading ? 'Loading runs…' : 'No runs recorded yet.'}</p>
      ) : (
        <>
          <figure className="chart" aria-label="Processed, succeeded and failed jobs per run" data-testid="events-chart" data-runs={events.data.length}>
            <Suspense fallback={<div className="chart-placeholder">Loading chart…</div>}>
              <EventsChart events={events.data.slice(0, 24)} />
            </Suspense>
          </figure>
          <ol className="timeline" aria-label="Recent runs, newest first">
            {events.data.slice(0, 12).map((e) => (
              <li key={e.id}>
                <time dateTime={e.at.toDate().toISOString()} title={formatDateTime(e.at)}>
                  {formatRelative(e.at, now)}
                </time>
                <span className="mono small">
                  {e.source}/{e.operation}
                </span>
                <span className="small">
                  {e.counts.processed} processed · {e.counts.succeeded} succeeded · {e.counts.failed} failed
                  {e.counts.queued ? ` · ${e.counts.queued} queued` : ''} · {Math.round(e.durationMs)} ms
                </span>
                {(e.error || e.circuitsOpened.length > 0) && (
                  <span className="small error-text">{e.error ?? `paused: ${e.circuitsOpened.join(', ')}`}</span>
                )}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}

function HealthSection({ now }: { now: number }) {
  const circuits = useCircuits();
  const errors = useErrorIntegrations();
  const open = circuits.data.filter((c) => c.openUntil && c.openUntil.getTime() > now);
  return (
    <section className="card" aria-labelledby="attention-title">
      <h2 id="attention-title">Needs attention</h2>
      <h3>Paused platforms</h3>
      {circuits.error && <Alert tone="error" title="Paused platforms could not be loaded">{circuits.error.message}</Alert>}
      {open.length === 0 ? (
        <p className="muted">No platform is paused.</p>
      ) : (
        <ul className="plain-list">
          {open.map((c) => (
            <li key={c.providerId}>
              <strong>{PROVIDER_LABELS[c.providerId]}</strong>{' '}
              {c.pausedBy === 'rate-limit' ? 'paused for its own request limit' : `paused after ${c.consecutiveFailures} failures`}, resumes{' '}
              {formatDateTime(c.openUntil)} ({formatRelative(c.openUntil, now)})
              {c.lastError && <span className="small muted"> · {readableError(c.lastError)}</span>}
            </li>
          ))}
        </ul>
      )}
      <h3>Integrations waiting for a reconnect</h3>
      {errors.error && <Alert tone="error" title="Integrations in error could not be loaded">{errors.error.message}</Alert>}
      {errors.data.length === 0 ? (
        <p className="muted">{errors.loading ? 'Loading…' : 'None.'}</p>
      ) : (
        <ul className="plain-list" data-testid="error-integrations">
          {errors.data.map((i) => (
            <li key={`${i.userId}:${i.providerId}`}>
              <strong>{PROVIDER_LABELS[i.providerId]}</strong> <span className="mono small">{i.userId}</span>
              {i.lastError && <span className="small muted"> · {i.lastError}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function UserAutomation({ now }: { now: number }) {
  const id = useId();
  const [search, setSearch] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const users = useUsers(search);
  const integrations = useIntegrations(selected);
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Users and their automation</h2>
      <label className="field" htmlFor={`${id}-search`}>
        <span>Find a user by email</span>
        <input id={`${id}-search`} type="search" value={search} placeholder="name@example.com" onChange={(e) => setSearch(e.target.value)} />
      </label>
      <ul className="user-list" aria-label="Users">
        {users.data.map((u) => (
          <li key={u.uid}>
            <button type="button" className="link-button" aria-pressed={selected === u.uid} onClick={() => setSelected(u.uid)}>
              {u.email || u.uid}
            </button>
          </li>
        ))}
      </ul>
      {selected && (
        <div className="user-integrations" data-testid="user-integrations">
          {integrations.error && <Alert tone="error" title="This user's integrations could not be loaded">{integrations.error.message}</Alert>}
          {integrations.data.size === 0 && !integrations.loading && !integrations.error && <p className="muted">This user has no integrations.</p>}
          {[...integrations.data.values()].map((i) => (
            <div key={i.providerId} className="user-integration">
              <h3>
                {PROVIDER_LABELS[i.providerId]} <Pill tone={i.status === 'connected' ? 'ok' : i.status === 'error' ? 'error' : 'muted'}>{i.status}</Pill>
              </h3>
              <AutomationControls
                providerId={i.providerId}
                automation={i.automation}
                nextRunAt={i.nextRunAt}
                now={now}
                save={async (automation) => void (await api.admin.setAutomation({ userId: selected, providerId: i.providerId, automation }))}
              />
            </div>
          ))}
        </div>
      )}
    </section>
  );
}

/** The queue, the scheduler's runs, what needs attention, and users' automation. */
export function AdminView() {
  const now = useNow(15_000);
  const events = useSchedulerEvents(1);
  const [jobsVersion, setJobsVersion] = useState('');
  const countsVersion = `${jobsVersion}|${events.data[0]?.id ?? ''}`;
  return (
    <main className="page" id="main">
      <div className="page-heading">
        <h1>Admin</h1>
        <p className="muted">The sync queue across all users, live.</p>
      </div>
      <section className="card" aria-labelledby="queue-title">
        <h2 id="queue-title">Queue</h2>
        <QueueCounts version={countsVersion} />
        <ScheduleAll />
      </section>
      <JobsSection onVersion={setJobsVersion} />
      <div className="two-columns">
        <EventsSection now={now} />
        <HealthSection now={now} />
      </div>
      <UserAutomation now={now} />
      <AlertSettings />
    </main>
  );
}
