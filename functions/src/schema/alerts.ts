import { z } from 'zod';
import { providerIdSchema, timestampSchema } from './common.js';

/**
 * What an alert is about. Platform kinds are judged per platform (a key per platform);
 * `stale-reset` and `backlog` are about the queue as a whole.
 */
export const ALERT_KINDS = ['run-failures', 'job-failed', 'stale-reset', 'circuit-open', 'backlog', 'reconnect', 'freshness', 'budget'] as const;
export const alertKindSchema = z.enum(ALERT_KINDS);
export type AlertKind = z.infer<typeof alertKindSchema>;
export const PLATFORM_ALERT_KINDS: readonly AlertKind[] = ['run-failures', 'job-failed', 'circuit-open', 'reconnect', 'freshness', 'budget'];

export const ALERT_KIND_LABELS: Record<AlertKind, string> = {
  'run-failures': 'Jobs failing',
  'job-failed': 'Jobs failed for good',
  'stale-reset': 'Stale jobs reset',
  'circuit-open': 'Platform paused (circuit open)',
  backlog: 'Queue backlog',
  reconnect: 'Integrations need a reconnect',
  freshness: 'Data is stale',
  budget: 'Daily request budget stretched',
};

/**
 * One override of the alert thresholds, for a kind (null: every kind), a platform (null:
 * every platform), or both. The most specific override wins: kind and platform, then kind,
 * then platform, then the default. `muted` silences what it covers.
 */
export const alertOverrideSchema = z.strictObject({
  kind: alertKindSchema.nullable(),
  providerId: providerIdSchema.nullable(),
  /** Alert when the count reaches this. */
  threshold: z.number().int().min(1).max(1_000_000),
  muted: z.boolean().default(false),
});
export type AlertOverride = z.infer<typeof alertOverrideSchema>;

/** What admins may change (POST /admin/alertSettings; stored in admin/alertSettings, written by the server only). */
export const alertSettingsBodySchema = z.strictObject({
  /** One alert per key per this many minutes; null: SCHEDULER_ALERT_THROTTLE_MINUTES. */
  throttleMinutes: z.number().int().min(1).max(7 * 24 * 60).nullable().default(null),
  /** A due job waiting longer than this is a backlog; null: SCHEDULER_ALERT_BACKLOG_MINUTES. */
  backlogMinutes: z.number().int().min(5).max(7 * 24 * 60).nullable().default(null),
  overrides: z
    .array(alertOverrideSchema)
    .max(50)
    .default([])
    .superRefine((overrides, ctx) => {
      const seen = new Set<string>();
      overrides.forEach((o, i) => {
        const key = `${o.kind ?? '*'}:${o.providerId ?? '*'}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i], message: `repeats the override for ${o.kind ?? 'every kind'} on ${o.providerId ?? 'every platform'}` });
        seen.add(key);
      });
    }),
});
export type AlertSettingsBody = z.infer<typeof alertSettingsBodySchema>;

/** The settings in force: the stored overrides over the configured defaults. */
export const alertSettingsResponseSchema = z.object({
  stored: alertSettingsBodySchema,
  defaults: z.object({ failureThreshold: z.number(), throttleMinutes: z.number(), backlogMinutes: z.number(), webhookConfigured: z.boolean() }),
  /** The threshold each kind has on each platform (or the queue), and whether it is muted. */
  effective: z.array(z.object({ kind: alertKindSchema, providerId: providerIdSchema.nullable(), threshold: z.number(), muted: z.boolean() })),
});
export type AlertSettingsResponse = z.infer<typeof alertSettingsResponseSchema>;

/** What one alert says; the Slack message is built from it. */
export const alertContentSchema = z.object({
  kind: alertKindSchema,
  providerId: providerIdSchema.nullable(),
  /** What was counted (failed jobs, stale integrations, minutes waited...). */
  count: z.number(),
  threshold: z.number(),
  /** One sentence: what happened. */
  summary: z.string(),
  /** Up to five examples (job ids with their errors, ...). */
  details: z.array(z.string()).max(5),
});
export type AlertContent = z.infer<typeof alertContentSchema>;

export const alertMessageSchema = z.object({
  id: z.string(),
  type: z.enum(['firing', 'resolved']),
  alert: alertContentSchema,
  /** Raises of this key folded into this message (or throttled) since the last one delivered. */
  suppressed: z.number().int().min(0),
  /** When the episode it is about began (epoch ms). */
  since: z.number().nullable(),
  createdAt: z.number(),
  attempts: z.number().int().min(0),
  nextAttemptAt: z.number(),
  /** A run delivering it now; others leave it alone until `until` (epoch ms). */
  claim: z.object({ id: z.string(), until: z.number() }).nullable(),
});
export type AlertMessage = z.infer<typeof alertMessageSchema>;

/**
 * admin/alerts/alertStates/{key}: one alert key's state, written by the functions only.
 * Times are epoch milliseconds, except `expireAt`, the TTL field.
 */
export const alertStateSchema = z.object({
  key: z.string(),
  kind: alertKindSchema,
  providerId: providerIdSchema.nullable(),
  /** The condition held at the last evaluation. */
  active: z.boolean(),
  /** This episode's firing message was queued: its end gets one "resolved". */
  announced: z.boolean(),
  /** When this episode began. */
  since: z.number().nullable(),
  lastAlert: alertContentSchema.nullable(),
  /** Raises since the last delivered firing message that got no message of their own. */
  suppressed: z.number().int().min(0),
  /** The throttle: when a firing message of this key was last delivered (written after the webhook took it). */
  lastDeliveredAt: z.number().nullable(),
  /** Messages waiting for the webhook, oldest first. */
  outbox: z.array(alertMessageSchema),
  /** active, or messages waiting: what runs read to resolve and to retry. */
  open: z.boolean(),
  updatedAt: z.number(),
  expireAt: timestampSchema.nullable(),
});
export type AlertStateDocument = z.infer<typeof alertStateSchema>;
