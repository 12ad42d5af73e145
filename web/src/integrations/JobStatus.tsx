import { estimateFinish, type Job } from '@functions/schema/index.js';
import { formatDateTime, formatEta, formatRelative } from '../components/format';
import { Pill, Progress, type Tone } from '../components/ui';

export const JOB_TYPE_LABELS: Record<Job['jobType'], string> = {
  'manual-sync': 'Sync now',
  'scheduled-sync': 'Scheduled sync',
  'initial-backfill': 'History backfill',
  'fan-out': 'Fan-out',
};

export const STATUS_TONES: Record<Job['status'], Tone> = { queued: 'info', running: 'info', succeeded: 'ok', failed: 'error', cancelled: 'muted' };
export const STATUS_LABELS: Record<Job['status'], string> = { queued: 'Queued', running: 'Running', succeeded: 'Succeeded', failed: 'Failed', cancelled: 'Cancelled' };

export const isActive = (job: Job) => job.status === 'queued' || job.status === 'running';

/** The queue names the error class first ("PermanentJobError: ..."); people need only the words after it. */
export const readableError = (message: string) => message.replace(/^[A-Za-z]+Error: /, '');

/** One job as the card shows it while it lives: queued, running with progress and ETA, then its end. */
export function JobStatus({ job, now, showError = true }: { job: Job; now: number; showError?: boolean }) {
  const backfill = job.jobType === 'initial-backfill';
  const eta = formatEta(estimateFinish(job, now), now);
  const progress = job.progress && job.progress.total > 1 ? job.progress : null;
  // Waiting for a retry's backoff or a platform limit's reset: say until when, as a time that does not go stale.
  const waitingUntil = job.status === 'queued' && job.runAfter.toMillis() > now + 5_000 ? job.runAfter : null;
  let text: string;
  if (waitingUntil) text = `${backfill ? 'History backfill' : 'Sync'} waiting until ${formatDateTime(waitingUntil)}`;
  else if (job.status === 'queued') text = backfill ? (progress ? 'History backfill waiting to continue' : 'History backfill queued') : 'Sync queued, starting shortly';
  else if (job.status === 'running') text = backfill ? 'Loading history' : 'Syncing';
  else if (job.status === 'succeeded') text = backfill ? 'History loaded' : 'Sync finished';
  else if (job.status === 'failed') text = backfill ? 'History backfill failed' : 'Sync failed';
  else text = backfill ? 'History backfill cancelled' : 'Sync cancelled';
  return (
    <div className="job" data-testid={`job-${job.jobType}`} data-status={job.status}>
      <div className="job-line">
        <Pill tone={STATUS_TONES[job.status]}>{STATUS_LABELS[job.status]}</Pill>
        <span className="job-text">
          {text}
          {job.status === 'running' && !progress && <span className="dots" aria-hidden="true" />}
        </span>
        {job.finishedAt && <span className="muted small">{formatRelative(job.finishedAt, now)}</span>}
      </div>
      {progress && isActive(job) && (
        <>
          <Progress done={progress.done} total={progress.total} label={`${JOB_TYPE_LABELS[job.jobType]} progress`} />
          <p className="muted small">
            {progress.done} of {progress.total} parts done{eta ? ` · ${eta}` : ''}
          </p>
        </>
      )}
      {showError && job.status === 'failed' && job.lastError && <p className="small error-text">{readableError(job.lastError)}</p>}
      {waitingUntil && job.lastError && <p className="small muted" data-testid="job-waiting-reason">{readableError(job.lastError).replace(/;? ?retry in [^.]*\.?$/, '.')}</p>}
    </div>
  );
}
