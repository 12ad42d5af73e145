import { useState } from 'react';
import { DEFAULT_AUTOMATION, type Job, type PlatformBudgetDocument, type ProviderId } from '@functions/schema/index.js';
import { api, errorText } from '../api';
import { formatDateTime, formatRelative } from '../components/format';
import { Alert, Button, Pill } from '../components/ui';
import type { Integration } from '../live/user';
import { AutomationControls } from './AutomationControls';
import { saveAutomation } from './automation';
import { budgetNotice } from './budget';
import { JobStatus, isActive } from './JobStatus';
import { PROVIDER_COLORS, PROVIDER_INITIALS, PROVIDER_LABELS, displayAccountId, rememberConnecting } from './platforms';

/** Active jobs, and for ten minutes how the last one ended. */
const RECENT_MS = 10 * 60_000;
const shownOnCard = (job: Job, now: number) => isActive(job) || job.status === 'failed' || (job.finishedAt !== null && now - job.finishedAt.toMillis() < RECENT_MS);

const NEEDS_RECONNECT = /reconnect|expired|revoked|denied access|no stored account/i;

function PlatformMark({ providerId }: { providerId: ProviderId }) {
  return (
    <span className="platform-mark" style={{ background: PROVIDER_COLORS[providerId] }} aria-hidden="true">
      {PROVIDER_INITIALS[providerId]}
    </span>
  );
}

/** One platform: connect it, or see and steer its sync. */
export function PlatformCard({
  uid,
  providerId,
  integration,
  jobs,
  budget,
  now,
}: {
  uid: string;
  providerId: ProviderId;
  integration: Integration | undefined;
  jobs: Job[];
  budget: PlatformBudgetDocument | undefined;
  now: number;
}) {
  const label = PROVIDER_LABELS[providerId];
  const [busy, setBusy] = useState<'connect' | 'sync' | 'disconnect' | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const connected = integration && integration.status !== 'disconnected';

  const run = async (what: 'connect' | 'sync' | 'disconnect', action: () => Promise<void>) => {
    setBusy(what);
    setError(null);
    setNotice(null);
    try {
      await action();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };
  const connect = () =>
    run('connect', async () => {
      const { authorizeUrl } = await api.connect(providerId);
      rememberConnecting(authorizeUrl, providerId);
      window.location.assign(authorizeUrl);
      // The page is leaving; keep the button busy until it has.
      await new Promise(() => undefined);
    });

  const headingId = `platform-${providerId}`;
  const mine = jobs.filter((j) => j.providerId === providerId);
  const backfill = mine.find((j) => j.jobType === 'initial-backfill');
  const sync = mine.find((j) => j.lane === 'sync');
  const activeSync = sync && isActive(sync);
  const budgetText = connected && integration.status === 'connected' ? budgetNotice(providerId, integration.automation ?? DEFAULT_AUTOMATION, budget, now) : null;
  const status = !connected ? { tone: 'muted' as const, text: 'Not connected' } : integration.status === 'error' ? { tone: 'error' as const, text: 'Needs reconnecting' } : { tone: 'ok' as const, text: 'Connected' };

  return (
    <section className="card platform-card" aria-labelledby={headingId} data-testid={`card-${providerId}`}>
      <header className="card-header">
        <PlatformMark providerId={providerId} />
        <div className="card-title">
          <h2 id={headingId}>{label}</h2>
          {connected && integration.accountId && (
            <p className="muted small">
              {integration.accountName ? `${integration.accountName} · ` : ''}
              {displayAccountId(providerId, integration.accountId)}
            </p>
          )}
        </div>
        <Pill tone={status.tone}>{status.text}</Pill>
      </header>

      {!connected ? (
        <div className="card-body">
          <p className="muted">Connect your {label} account to bring its spend, impressions and clicks into the Ads Hub. History loads on its own after you connect.</p>
          <Button variant="primary" busy={busy === 'connect'} onClick={() => void connect()} aria-label={`Connect ${label}`}>
            {busy === 'connect' ? 'Opening…' : 'Connect'}
          </Button>
        </div>
      ) : (
        <div className="card-body">
          {integration.status === 'error' && (
            <Alert tone="error" title={`Reconnect ${label} to keep syncing`}>
              <p>
                {NEEDS_RECONNECT.test(integration.lastError ?? '')
                  ? `${label} no longer accepts the Ads Hub's access: it expired or was revoked. Reconnect to grant access again; your data and settings stay.`
                  : `${label} stopped the last sync. Reconnect to grant access again.`}
              </p>
              {integration.lastError && <p className="small">Details: {integration.lastError}</p>}
              <Button variant="primary" busy={busy === 'connect'} onClick={() => void connect()} aria-label={`Reconnect ${label}`}>
                Reconnect
              </Button>
            </Alert>
          )}
          {integration.status === 'connected' && integration.lastSyncStatus === 'failed' && integration.lastError && !activeSync && (
            <Alert tone="warn" title="The last sync failed">
              {integration.lastError} Press Sync now to try again{integration.automation.enabled ? ', or wait for the next run' : ''}.
            </Alert>
          )}

          {budgetText && (
            <Alert tone="warn" title="Syncing less often today">
              <span data-testid="budget-notice">{budgetText}</span>
            </Alert>
          )}

          {backfill && shownOnCard(backfill, now) && <JobStatus job={backfill} now={now} showError={integration.status !== 'error'} />}
          {sync && shownOnCard(sync, now) && <JobStatus job={sync} now={now} showError={integration.status !== 'error'} />}

          <dl className="facts">
            <div>
              <dt>Last sync</dt>
              <dd data-testid="last-sync">
                {integration.lastSyncedAt ? (
                  <>
                    <time dateTime={integration.lastSyncedAt.toDate().toISOString()}>{formatRelative(integration.lastSyncedAt, now)}</time>
                    {integration.lastSyncStatus === 'failed' ? ' (latest attempt failed)' : ''}
                  </>
                ) : integration.lastSyncStatus === 'failed' ? (
                  'Failed'
                ) : (
                  'Not yet'
                )}
              </dd>
            </div>
            <div>
              <dt>Result</dt>
              <dd>{integration.lastSyncStatus === 'succeeded' ? 'Succeeded' : integration.lastSyncStatus === 'failed' ? 'Failed' : '—'}</dd>
            </div>
            <div>
              <dt>Last request</dt>
              <dd title={formatDateTime(integration.lastRequestedAt)}>{formatRelative(integration.lastRequestedAt, now)}</dd>
            </div>
          </dl>

          <AutomationControls
            providerId={providerId}
            automation={integration.automation ?? DEFAULT_AUTOMATION}
            nextRunAt={integration.nextRunAt}
            now={now}
            save={(next) => saveAutomation(uid, providerId, integration.automation, next)}
          />

          <div className="card-actions">
            <Button
              variant="primary"
              busy={busy === 'sync'}
              disabled={integration.status !== 'connected'}
              onClick={() =>
                void run('sync', async () => {
                  const { pausedUntil } = await api.syncNow(providerId);
                  if (pausedUntil) setNotice(`${label} is paused for its own request limit until ${formatDateTime(new Date(pausedUntil))}; the sync starts then.`);
                })
              }
              aria-label={`Sync ${label} now`}
            >
              {activeSync ? 'Syncing…' : 'Sync now'}
            </Button>
            {confirming ? (
              <>
                <Button variant="danger" busy={busy === 'disconnect'} onClick={() => void run('disconnect', () => api.disconnect(providerId).then(() => setConfirming(false)))}>
                  Confirm disconnect
                </Button>
                <Button variant="ghost" onClick={() => setConfirming(false)}>
                  Keep connected
                </Button>
              </>
            ) : (
              <Button variant="ghost" onClick={() => setConfirming(true)} aria-label={`Disconnect ${label}`}>
                Disconnect
              </Button>
            )}
          </div>
        </div>
      )}
      {notice && <Alert tone="info">{notice}</Alert>}
      {error && <Alert tone="error">{error}</Alert>}
    </section>
  );
}
