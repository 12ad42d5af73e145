import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SlackPayload } from '../../functions/src/alerts/slack.js';

/**
 * A local Slack-compatible webhook: records every body it is sent, answers each with the
 * next status in `answers` (200 once they run out), or never answers while `hang` is set.
 */
export interface WebhookReceiver {
  url: string;
  received: SlackPayload[];
  answers: number[];
  hang: boolean;
  /** Headers of the messages received, in order (the first block's text). */
  headers(): string[];
  reset(): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: SlackPayload[] = [];
  const state = { answers: [] as number[], hang: false };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push(JSON.parse(body) as SlackPayload);
      if (state.hang) return;
      res.statusCode = state.answers.shift() ?? 200;
      res.end(res.statusCode === 200 ? 'ok' : 'no_service');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/hook`,
    received,
    get answers() {
      return state.answers;
    },
    set answers(value: number[]) {
      state.answers = value;
    },
    get hang() {
      return state.hang;
    },
    set hang(value: boolean) {
      state.hang = value;
    },
    headers: () => received.map((p) => String((p.blocks[0] as { text: { text: string } }).text.text)),
    reset() {
      received.length = 0;
      state.answers = [];
      state.hang = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
