/**
 * Slack's incoming-webhook JSON for an alert message: `text` (the notification, and what
 * Slack-compatible receivers without blocks show) and Block Kit blocks: what happened,
 * which platform, the counts, examples, and a button to the Ads Hub admin view. Pure.
 */
import { ALERT_KIND_LABELS, type AlertMessage } from '../schema/index.js';
import { platformName } from './rules.js';

export interface SlackPayload {
  text: string;
  blocks: Record<string, unknown>[];
}

/** Slack's mrkdwn gives &, < and > a meaning: escaped, so an error text cannot become a link or a mention. */
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const when = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const plainText = (text: string) => ({ type: 'plain_text', text: text.slice(0, 150) });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text: text.slice(0, 3000) });

export interface SlackContext {
  /** The Ads Hub admin view; no button without it. */
  adminUrl: string | null;
  now: number;
}

export function slackPayload(message: AlertMessage, context: SlackContext): SlackPayload {
  const { alert } = message;
  const label = ALERT_KIND_LABELS[alert.kind];
  const where = platformName(alert.providerId) ?? (alert.kind === 'run-failures' || alert.kind === 'job-failed' ? "the scheduler's own jobs" : 'the queue');
  const firing = message.type === 'firing';
  const title = `${firing ? 'Alert' : 'Resolved'}: ${label}, ${where}`;
  const blocks: Record<string, unknown>[] = [{ type: 'header', text: plainText(title) }];
  if (firing) {
    blocks.push({
      type: 'section',
      text: mrkdwn(escape(alert.summary)),
      fields: [mrkdwn(`*Platform*\n${escape(where)}`), mrkdwn(`*Count*\n${alert.count}`), mrkdwn(`*Threshold*\n${alert.threshold}`)],
    });
    if (alert.details.length > 0) blocks.push({ type: 'section', text: mrkdwn(alert.details.map((d) => `• ${escape(d)}`).join('\n')) });
  } else {
    blocks.push({ type: 'section', text: mrkdwn(`No longer applies: ${escape(alert.summary)}`) });
  }
  const notes = [
    message.since !== null ? (firing ? `Since ${when(message.since)}` : `Began ${when(message.since)}, resolved ${when(context.now)}`) : null,
    message.suppressed > 0 ? `${message.suppressed} similar ${message.suppressed === 1 ? 'alert' : 'alerts'} suppressed since the last message` : null,
  ].filter((note): note is string => note !== null);
  if (notes.length > 0) blocks.push({ type: 'context', elements: notes.map(mrkdwn) });
  if (context.adminUrl) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: plainText('Open the Ads Hub admin view'), url: context.adminUrl }] });
  }
  const suppressed = message.suppressed > 0 ? ` (${message.suppressed} similar suppressed)` : '';
  return {
    text: firing ? `Ads Hub Sync alert: ${label}, ${where}: ${alert.summary}${suppressed}` : `Ads Hub Sync resolved: ${label}, ${where}: no longer applies.`,
    blocks,
  };
}
