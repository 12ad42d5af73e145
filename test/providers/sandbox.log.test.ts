import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSandbox } from '../../scripts/sandbox/server.js';

describe('the sandbox request log', () => {
  it('keeps only the newest requests when limited (the demo), so bearer tokens do not pile up in memory', async () => {
    const sandbox = await startSandbox({ requestLogLimit: 3 });
    try {
      for (let i = 0; i < 10; i++) {
        const response = await fetch(`${sandbox.baseUrls.tiktok.apiBaseUrl}/open_api/v1.3/advertiser/info/?n=${i}`, { headers: { 'access-token': `token-${i}` } });
        await response.body?.cancel();
      }
      const { total, log } = sandbox.requests('tiktok');
      assert.equal(total, 3);
      assert.deepEqual(log.map((entry) => entry.headers['access-token']), ['token-7', 'token-8', 'token-9']);
    } finally {
      await sandbox.close();
    }
  });
});
