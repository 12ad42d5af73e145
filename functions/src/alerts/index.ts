import { FieldValue, type Firestore } from 'firebase-admin/firestore';
import { GRPC, hasCode } from '../queue/index.js';
import type { EventCounts } from '../schema/index.js';

export interface AlertSettings {
  webhookUrl: string | null;
  /** Failures in one run at or over this alert. */
  failureThreshold: number;
  /** One alert per key per window. Default 1 h. */
  throttleMs?: number;
}

export interface RunSummary {
  source: string;
  operation: string;
  counts: EventCounts;
  circuitsOpened: readonly string[];
  /** Jobs that failed for good in this run, with their errors. */
  permanentFailures: readonly { jobId: string; error: string }[];
}

export interface Alert {
  key: string;
  text: string;
}

/** What deserves a person's attention in one run. Pure, so the rules are unit-tested. */
export function alertsFor(run: RunSummary, settings: Pick<AlertSettings, 'failureThreshold'>): Alert[] {
  const alerts: Alert[] = [];
  const failures = run.counts.failed;
  if (failures >= settings.failureThreshold) {
    alerts.push({ key: `failures:${run.source}`, text: `${failures} jobs failed in one ${run.source} run (${run.operation}); threshold ${settings.failureThreshold}.` });
  }
  for (const failure of run.permanentFailures.slice(0, 5)) {
    alerts.push({ key: `permanent:${failure.jobId}`, text: `Job ${failure.jobId} failed for good: ${failure.error}` });
  }
  if (run.counts.reset > 0) {
    alerts.push({ key: 'stale-reset', text: `${run.counts.reset} stale jobs were put back in the queue (their workers stopped responding).` });
  }
  for (const provider of run.circuitsOpened) {
    alerts.push({ key: `circuit:${provider}`, text: `Circuit opened for ${provider}: its syncs are paused after repeated failures.` });
  }
  return alerts;
}

/**
 * Posts Slack-compatible JSON ({ text }). Throttled through a Firestore document per key
 * and window, created with create() so concurrent runs send one alert, not many. A failing
 * webhook is logged and never fails the run. `now` decides the throttle window.
 */
export async function sendAlerts(db: Firestore, alerts: Alert[], settings: AlertSettings, now = Date.now()): Promise<number> {
  if (!settings.webhookUrl || alerts.length === 0) return 0;
  const url = settings.webhookUrl;
  const window = Math.floor(now / (settings.throttleMs ?? 3_600_000));
  const sent = await Promise.all(
    alerts.map(async (alert) => {
      try {
        await db
          .collection('admin')
          .doc('alerts')
          .collection('sent')
          .doc(`${alert.key.replace(/[^A-Za-z0-9_:-]/g, '_')}:${window}`)
          .create({ text: alert.text, at: FieldValue.serverTimestamp() });
      } catch (error) {
        if (hasCode(error, GRPC.ALREADY_EXISTS)) return 0;
        console.warn('alert throttle check failed', { key: alert.key, error: String(error) });
        return 0;
      }
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: `Ads Hub Sync: ${alert.text}` }),
          signal: AbortSignal.timeout(5_000),
        });
        if (!response.ok) console.warn('alert webhook answered', { key: alert.key, status: response.status });
        return response.ok ? 1 : 0;
      } catch (error) {
        console.warn('alert webhook unreachable', { key: alert.key, error: error instanceof Error ? error.name : 'unknown' });
        return 0;
      }
    }),
  );
  return sent.reduce<number>((a, b) => a + b, 0);
}
