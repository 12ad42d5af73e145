/**
 * Alerts: a run's observations judged against the thresholds, each key's state moved on
 * (throttled raises, one "resolved" per announced episode), and the messages due posted to
 * the Slack-compatible webhook. What a run needs to know:
 *
 * - It never fails a run: every error is logged and swallowed, and every POST of one run
 *   shares one deadline (SCHEDULER_ALERT_TIMEOUT_MS), so a slow or dead webhook delays a run
 *   by at most that.
 * - A message is written to its key's state before it is posted, and leaves it only when the
 *   webhook answered 2xx: a failed POST is retried by a later run (1 min doubling to 30 min),
 *   never swallowed by the throttle, whose marker moves only after a delivery. After a day of
 *   failures a message is dropped and logged at ERROR.
 * - Two runs never post the same message: a run claims the messages it posts (a precondition
 *   write), others leave them alone until the claim lapses. A run that dies after the webhook
 *   took a message but before it recorded that leaves the claim to lapse, and the message is
 *   posted again: delivery is at least once.
 */
import { randomUUID } from 'node:crypto';
import type { Firestore } from 'firebase-admin/firestore';
import type { AlertConfig } from '../config/index.js';
import { alertDelivery, alertDropped, alertResolved, sideTaskFailed } from '../logs.js';
import type { AlertMessage, AlertSettingsResponse } from '../schema/index.js';
import { alertKey, alertPolicy, effectiveThresholds, thresholdFor, type AlertPolicy, type Observation } from './rules.js';
import { slackPayload } from './slack.js';
import { claimDue, observe, recordDeliveries, type DeliveryOutcome, type Judged } from './state.js';
import { commitStates, loadAlertSettings, readOpenStates, readStates, updateState } from './store.js';

export { loadAlertSettings, saveAlertSettings } from './store.js';
export * from './rules.js';

export interface AlertRuntime {
  db: Firestore;
  config: AlertConfig;
  /** The clock that decides throttles, retries and claims. Default Date.now. */
  now?: () => number;
}

export interface AlertReport {
  /** Keys whose condition holds after this run. */
  firing: string[];
  /** Keys whose episode this run ended. */
  resolved: string[];
  /** Messages the webhook took, and those it did not. */
  delivered: number;
  failed: number;
  dropped: number;
}

const emptyReport = (): AlertReport => ({ firing: [], resolved: [], delivered: 0, failed: 0, dropped: 0 });

/** A claim outlives the longest a run may spend posting, with room for its writes. */
const CLAIM_SLACK_MS = 30_000;
/** Each key is read again and retried this often when other runs keep writing it. */
const COMMIT_ROUNDS = 10;

export async function currentPolicy(rt: AlertRuntime): Promise<AlertPolicy> {
  return alertPolicy(rt.config, await loadAlertSettings(rt.db));
}

/** What the admin view shows: the stored overrides, the configured defaults, and every key's threshold in force. */
export async function alertSettingsView(rt: Pick<AlertRuntime, 'db' | 'config'>): Promise<AlertSettingsResponse> {
  const stored = await loadAlertSettings(rt.db);
  const { failureThreshold, throttleMinutes, backlogMinutes, webhookUrl } = rt.config;
  return {
    stored,
    defaults: { failureThreshold, throttleMinutes, backlogMinutes, webhookConfigured: webhookUrl !== null },
    effective: effectiveThresholds(alertPolicy(rt.config, stored)),
  };
}

/**
 * Judges the observations, moves their keys' states on, and posts what is due (the messages
 * of this run and any a previous run failed to deliver). With no webhook configured it does
 * nothing. Never throws.
 */
export async function evaluateAlerts(rt: AlertRuntime, observations: readonly Observation[]): Promise<AlertReport> {
  const report = emptyReport();
  if (!rt.config.webhookUrl) return report;
  try {
    const now = (rt.now ?? Date.now)();
    // A run with nothing to judge only delivers what is waiting: no settings to read.
    const policy = observations.length > 0 ? await currentPolicy(rt) : alertPolicy(rt.config, { throttleMinutes: null, backlogMinutes: null, overrides: [] });
    const judged: Judged[] = observations.map((o) => {
      const { threshold, muted } = thresholdFor(policy, o.kind, o.providerId);
      return { ...o, key: alertKey(o.kind, o.providerId), threshold, applies: !muted && o.count >= threshold };
    });
    const claimId = randomUUID();
    const claimMs = rt.config.timeoutMs + CLAIM_SLACK_MS;
    const claimed = await transitionAll(rt.db, judged, policy, now, claimId, claimMs, report);
    await deliverAll(rt, claimed, report);
  } catch (error) {
    sideTaskFailed('alert evaluation', error);
  }
  return report;
}

type Claimed = { key: string; messages: AlertMessage[] };

/**
 * Moves every key that may change on: the open ones (to resolve, or to deliver what waits)
 * and the observed ones. Each key is written on its own, fenced on the version read, and
 * read again when another run wrote it meanwhile, so runs that overlap never overwrite each
 * other and a busy key never holds up the others.
 */
async function transitionAll(
  db: Firestore,
  judged: readonly Judged[],
  policy: AlertPolicy,
  now: number,
  claimId: string,
  claimMs: number,
  report: AlertReport,
): Promise<Claimed[]> {
  const open = await readOpenStates(db);
  // A key that applies but is not open may still hold its throttle from an earlier episode.
  const closed = await readStates(db, judged.filter((j) => j.applies && !open.has(j.key)).map((j) => j.key));
  const keys = new Set([...open.keys(), ...judged.map((j) => j.key)]);
  const results = await Promise.all(
    [...keys].map(async (key): Promise<Claimed | null> => {
      const observations = judged.filter((j) => j.key === key);
      let stored = open.get(key) ?? closed.get(key) ?? null;
      for (let round = 0; round < COMMIT_ROUNDS; round++) {
        let state = stored?.state ?? null;
        for (const j of observations) state = observe(state, j, now, policy.throttleMs, randomUUID);
        if (state === null) return null;
        const { state: next, claimed: messages } = claimDue(state, now, claimId, claimMs);
        if (next === stored?.state) return null;
        if (await commitStates(db, [{ key, version: stored?.version ?? null, state: next }])) {
          if (next.active && observations.length > 0) report.firing.push(key);
          if (stored?.state.active && !next.active) {
            report.resolved.push(key);
            alertResolved(key);
          }
          return messages.length > 0 ? { key, messages } : null;
        }
        stored = (await readStates(db, [key])).get(key) ?? null;
      }
      sideTaskFailed('alert evaluation', new Error(`the state of ${key} kept changing under ${COMMIT_ROUNDS} attempts; the next run evaluates it again`));
      return null;
    }),
  );
  return results.filter((r): r is Claimed => r !== null);
}

/** Posts every claimed message (keys side by side, each key's in order) before one shared deadline, then records what happened. */
async function deliverAll(rt: AlertRuntime, claimed: Claimed[], report: AlertReport): Promise<void> {
  if (claimed.length === 0) return;
  const deadline = AbortSignal.timeout(rt.config.timeoutMs);
  const now = rt.now ?? Date.now;
  await Promise.all(
    claimed.map(async ({ key, messages }) => {
      const outcomes: DeliveryOutcome[] = [];
      for (const message of messages) {
        const ok = await post(rt.config, key, message, deadline, now());
        outcomes.push({ messageId: message.id, ok });
        if (!ok) break;
      }
      // A message after a failed one is not attempted: released with it, order kept.
      for (const message of messages.slice(outcomes.length)) outcomes.push({ messageId: message.id, ok: false });
      report.delivered += outcomes.filter((o) => o.ok).length;
      report.failed += outcomes.filter((o) => !o.ok).length;
      const at = now();
      let dropped: AlertMessage[] = [];
      const recorded = await updateState(rt.db, key, (state) => {
        const result = recordDeliveries(state, outcomes, at);
        dropped = result.dropped;
        return result.state;
      });
      if (!recorded) sideTaskFailed('recording an alert delivery', new Error('the state kept changing or is gone'), { alertKey: key });
      for (const message of dropped) {
        report.dropped++;
        alertDropped(key, message.type, message.alert.summary, message.attempts + 1);
      }
    }),
  );
}

async function post(config: AlertConfig, key: string, message: AlertMessage, deadline: AbortSignal, now: number): Promise<boolean> {
  const started = Date.now();
  const line = { alertKey: key, type: message.type, attempt: message.attempts + 1 };
  try {
    const response = await fetch(config.webhookUrl!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(slackPayload(message, { adminUrl: config.adminUrl, now })),
      signal: deadline,
    });
    await response.body?.cancel();
    alertDelivery({ ...line, status: response.status, durationMs: Date.now() - started }, response.ok ? null : `the webhook answered ${response.status}`);
    return response.ok;
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
    const reason = deadline.aborted ? `no answer within ${config.timeoutMs} ms` : typeof cause === 'string' ? cause : error instanceof Error ? error.name : 'unknown error';
    alertDelivery({ ...line, durationMs: Date.now() - started }, reason);
    return false;
  }
}
