import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sendAlerts } from '../../functions/src/alerts/index.js';
import { testFirebase } from '../helpers/firebase.js';

const fb = testFirebase('alerts');
let server: Server;
let url: string;
const received: unknown[] = [];
let answer = 200;

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.statusCode = answer;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
beforeEach(async () => {
  await fb.clear();
  received.length = 0;
  answer = 200;
});
after(async () => {
  server.close();
  await fb.close();
});

describe('sendAlerts', () => {
  it('posts Slack-compatible JSON once per key and window, even from concurrent runs', async () => {
    const alerts = [{ key: 'circuit:meta', text: 'Circuit opened for meta' }];
    const settings = { webhookUrl: url, failureThreshold: 3 };
    // Fixed times, so the runs can never straddle the top of an hour.
    const at = (time: string) => Date.parse(`2026-03-02T${time}Z`);
    const sent = await Promise.all([1, 2, 3].map(() => sendAlerts(fb.db, alerts, settings, at('10:30:00'))));
    assert.equal(sent.reduce((a, b) => a + b, 0), 1);
    assert.deepEqual(received, [{ text: 'Ads Hub Sync: Circuit opened for meta' }]);

    assert.equal(await sendAlerts(fb.db, alerts, settings, at('10:59:59')), 0, 'same hour: throttled');
    assert.equal(await sendAlerts(fb.db, [{ key: 'circuit:google', text: 'Circuit opened for google' }], settings, at('10:59:59')), 1, 'another key is not');
    assert.equal(await sendAlerts(fb.db, alerts, settings, at('11:00:00')), 1, 'the next hour sends again');
    assert.equal(received.length, 3);
  });

  it('a failing or unreachable webhook never fails the run', async () => {
    answer = 500;
    assert.equal(await sendAlerts(fb.db, [{ key: 'a', text: 'x' }], { webhookUrl: url, failureThreshold: 3 }), 0);
    assert.equal(received.length, 1);
    assert.equal(await sendAlerts(fb.db, [{ key: 'b', text: 'y' }], { webhookUrl: 'http://127.0.0.1:9/none', failureThreshold: 3 }), 0);
  });

  it('sends nothing without a webhook URL', async () => {
    assert.equal(await sendAlerts(fb.db, [{ key: 'c', text: 'z' }], { webhookUrl: null, failureThreshold: 3 }), 0);
    assert.equal(received.length, 0);
  });
});
