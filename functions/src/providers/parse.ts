import { z } from 'zod';
import { metricRowSchema } from '../schema/metrics.js';
import { PermanentError } from './errors.js';
import type { MetricRow, ProviderId } from './types.js';

/** A number the platform may send as a JSON number or as a decimal string ("12.34", int64 as text). */
export const numeric = z
  .union([z.number(), z.string().regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/)])
  .transform(Number)
  .pipe(z.number().finite());

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.length > 0 ? issue.path.join('.') : 'value';
  return `${path}: ${issue.message}`;
}

/** A response envelope of the wrong shape is a contract break, not something a retry fixes. */
export function parseBody<T>(provider: ProviderId, schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new PermanentError(provider, `unexpected ${what} response (${firstIssue(parsed.error)})`);
  return parsed.data;
}

/** Parses one platform record, naming it when it is malformed. */
export function parseRecord<T>(provider: ProviderId, schema: z.ZodType<T>, item: unknown, record: string): T {
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw new PermanentError(provider, `malformed record (${firstIssue(parsed.error)})`, record);
  return parsed.data;
}

/** Validates a normalized row; a platform sending e.g. negative clicks fails loudly, naming the row. */
export function checkedRow(row: MetricRow): MetricRow {
  return parseRecord(row.provider, metricRowSchema, row, `campaign ${row.campaignId} on ${row.date}`);
}
