import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { API_VERSIONS, SUNSET_WARNING_DAYS } from '../../functions/src/providers/versions.js';
import { checkHealth } from '../../functions/src/status/health.js';
import { testConfig, testFirebase } from '../helpers/firebase.js';

const fb = testFirebase('health-versions');
after(() => fb.close());

const DAY_MS = 86_400_000;
const sunsetMs = (provider: 'meta' | 'google' | 'linkedin') => Date.parse(`${API_VERSIONS[provider].sunsetOn!}T00:00:00Z`);

describe('health: pinned platform API versions', () => {
  it(`lists a version within ${SUNSET_WARNING_DAYS} days of its sunset, and stays healthy`, async () => {
    // Ten days before the earliest published sunset: that version, and only versions as close, are flagged.
    const earliest = (['meta', 'google', 'linkedin'] as const).reduce((a, b) => (sunsetMs(a) <= sunsetMs(b) ? a : b));
    const now = sunsetMs(earliest) - 10 * DAY_MS;
    const report = await checkHealth(fb.db, testConfig(), now - 1000, now);
    assert.equal(report.status, 'healthy');
    const flagged = report.apiVersions.pinned.filter((v) => v.expiring).map((v) => v.provider);
    const expected = (['meta', 'google', 'linkedin'] as const).filter((p) => sunsetMs(p) - now <= SUNSET_WARNING_DAYS * DAY_MS);
    assert.deepEqual(flagged.sort(), [...expected].sort());
    assert.ok(flagged.includes(earliest));
    assert.equal(report.apiVersions.expiring.length, flagged.length);
    const message = report.apiVersions.expiring.find((m) => m.startsWith(earliest))!;
    assert.match(message, new RegExp(`${API_VERSIONS[earliest].version.replace('.', '\\.')} is sunset on ${API_VERSIONS[earliest].sunsetOn} \\(in 10 days\\)`));
    assert.match(message, /docs\/operations\.md/);
  });

  it('lists nothing while every pinned version is further than the warning window away', async () => {
    const now = Math.min(sunsetMs('meta'), sunsetMs('google'), sunsetMs('linkedin')) - (SUNSET_WARNING_DAYS + 5) * DAY_MS;
    const report = await checkHealth(fb.db, testConfig(), now, now);
    assert.deepEqual(report.apiVersions.expiring, []);
    assert.equal(report.apiVersions.pinned.length, 4);
    for (const pinned of report.apiVersions.pinned) assert.equal(pinned.version, API_VERSIONS[pinned.provider].version);
  });
});
