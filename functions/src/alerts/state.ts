/**
 * One alert key's life, as pure transitions over its state (times in epoch ms), so every
 * rule is unit-tested: raise (throttled), clear (one "resolved" per announced episode),
 * claim what is due for delivery, and record what the webhook answered. The throttle marker
 * (`lastDeliveredAt`) moves only when the webhook took a firing message.
 */
import type { AlertContent, AlertMessage, AlertStateDocument } from '../schema/index.js';
import type { Observation } from './rules.js';

export type AlertState = Omit<AlertStateDocument, 'expireAt'> & { expireAt: number | null };

/** Delivery retries: 1 min doubling to 30 min; a message still undelivered after a day is dropped (and logged). */
export const RETRY_BASE_MS = 60_000;
export const RETRY_MAX_MS = 30 * 60_000;
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;
/** A state with nothing active or waiting is kept this long (the throttle and the suppressed count), then expires. */
export const IDLE_STATE_RETENTION_MS = 7 * 86_400_000;

export interface Judged extends Observation {
  key: string;
  threshold: number;
  /** The count reached the threshold and the key is not muted. */
  applies: boolean;
}

function emptyState(judged: Judged, now: number): AlertState {
  return {
    key: judged.key,
    kind: judged.kind,
    providerId: judged.providerId,
    active: false,
    announced: false,
    since: null,
    lastAlert: null,
    suppressed: 0,
    lastDeliveredAt: null,
    outbox: [],
    open: false,
    updatedAt: now,
    expireAt: null,
  };
}

const content = (judged: Judged): AlertContent => ({
  kind: judged.kind,
  providerId: judged.providerId,
  count: judged.count,
  threshold: judged.threshold,
  summary: judged.summary,
  details: judged.details,
});

function message(type: AlertMessage['type'], alert: AlertContent, suppressed: number, since: number | null, now: number, id: string): AlertMessage {
  return { id, type, alert, suppressed, since, createdAt: now, attempts: 0, nextAttemptAt: now, claim: null };
}

function settle(state: AlertState, now: number): AlertState {
  const open = state.active || state.outbox.length > 0;
  return { ...state, open, updatedAt: now, expireAt: open ? null : now + IDLE_STATE_RETENTION_MS };
}

/**
 * The state after one evaluation of its key; null when there is nothing to keep (a key
 * that never applied). While its condition holds, a key sends one message per throttle
 * window: a firing message that has not gone out yet takes the newest content instead of
 * a second message, and within the window after a delivered one the raise is counted as
 * suppressed; the next message says how many. When the condition stops, an episode that
 * was announced gets one "resolved"; one that was never announced ends silently.
 */
export function observe(previous: AlertState | null, judged: Judged, now: number, throttleMs: number, newId: () => string): AlertState | null {
  if (!judged.applies) {
    if (!previous?.active) return previous;
    const state: AlertState = { ...previous, active: false, announced: false };
    if (previous.announced) {
      state.outbox = [...previous.outbox, message('resolved', previous.lastAlert ?? content(judged), 0, previous.since, now, newId())];
    }
    return settle(state, now);
  }
  const base = previous ?? emptyState(judged, now);
  const state: AlertState = { ...base, lastAlert: content(judged), since: base.active ? base.since : now, active: true };
  const last = base.outbox.at(-1);
  if (last && last.type === 'firing' && last.claim === null) {
    // Not sent yet (the webhook was down): it carries the newest content when it goes.
    state.outbox = [...base.outbox.slice(0, -1), { ...last, alert: content(judged), suppressed: last.suppressed + 1 }];
  } else if (last?.type === 'firing' || (base.lastDeliveredAt !== null && now - base.lastDeliveredAt < throttleMs)) {
    state.suppressed = base.suppressed + 1;
  } else {
    state.outbox = [...base.outbox, message('firing', content(judged), base.suppressed, state.since, now, newId())];
    state.suppressed = 0;
    state.announced = true;
  }
  return settle(state, now);
}

/** The messages due now and not being delivered by another run, in order, claimed for `claimId`. */
export function claimDue(state: AlertState, now: number, claimId: string, claimMs: number): { state: AlertState; claimed: AlertMessage[] } {
  const claimed: AlertMessage[] = [];
  const outbox = [...state.outbox];
  for (let i = 0; i < outbox.length; i++) {
    const m = outbox[i]!;
    // Order matters: nothing goes ahead of an earlier message that is not due or is taken.
    if (m.nextAttemptAt > now || (m.claim && m.claim.until > now)) break;
    outbox[i] = { ...m, claim: { id: claimId, until: now + claimMs } };
    claimed.push(outbox[i]!);
  }
  return { state: claimed.length > 0 ? { ...state, outbox, updatedAt: now } : state, claimed };
}

export interface DeliveryOutcome {
  messageId: string;
  ok: boolean;
}

/**
 * What the webhook answered, applied to the state as it is now (another run may have
 * changed it meanwhile): a delivered message leaves the outbox (a firing one moves the
 * throttle marker); a failed one is released for a later run, with backoff, or dropped
 * once it is a day old. Returns the messages dropped.
 */
export function recordDeliveries(state: AlertState, outcomes: readonly DeliveryOutcome[], now: number): { state: AlertState; dropped: AlertMessage[] } {
  const byId = new Map(outcomes.map((o) => [o.messageId, o.ok]));
  const dropped: AlertMessage[] = [];
  let lastDeliveredAt = state.lastDeliveredAt;
  const outbox: AlertMessage[] = [];
  for (const m of state.outbox) {
    const ok = byId.get(m.id);
    if (ok === true) {
      if (m.type === 'firing') lastDeliveredAt = now;
      continue;
    }
    if (ok === false) {
      if (now - m.createdAt >= GIVE_UP_AFTER_MS) {
        dropped.push(m);
        continue;
      }
      const attempts = m.attempts + 1;
      outbox.push({ ...m, attempts, claim: null, nextAttemptAt: now + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempts - 1)) });
      continue;
    }
    outbox.push(m);
  }
  return { state: settle({ ...state, outbox, lastDeliveredAt }, now), dropped };
}
