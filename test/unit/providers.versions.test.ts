import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_VERSIONS, SUNSET_WARNING_DAYS, apiVersionStatus } from '../../functions/src/providers/versions.js';

const at = (iso: string) => Date.parse(`${iso}T12:00:00Z`);

describe('providers/versions', () => {
  it('pins one version per platform, each with a sunset date (or an explicit none) and its source', () => {
    assert.deepEqual(Object.keys(API_VERSIONS).sort(), ['google', 'linkedin', 'meta', 'tiktok']);
    for (const pinned of Object.values(API_VERSIONS)) {
      assert.ok(pinned.version.length > 0);
      assert.match(pinned.source, /^https:\/\//);
      if (pinned.sunsetOn !== null) assert.ok(!Number.isNaN(Date.parse(`${pinned.sunsetOn}T00:00:00Z`)), pinned.sunsetOn);
    }
  });

  it(`flags a version ${SUNSET_WARNING_DAYS} days before its sunset and not a day earlier`, () => {
    const sunset = API_VERSIONS.linkedin.sunsetOn!;
    const dayMs = 86_400_000;
    const sunsetMs = Date.parse(`${sunset}T00:00:00Z`);
    const linkedin = (now: number) => apiVersionStatus(now).find((v) => v.provider === 'linkedin')!;
    assert.equal(linkedin(sunsetMs - (SUNSET_WARNING_DAYS + 1) * dayMs).expiring, false);
    assert.equal(linkedin(sunsetMs - (SUNSET_WARNING_DAYS + 1) * dayMs).daysLeft, SUNSET_WARNING_DAYS + 1);
    assert.equal(linkedin(sunsetMs - SUNSET_WARNING_DAYS * dayMs).expiring, true);
    assert.equal(linkedin(sunsetMs + dayMs).daysLeft, -1);
    assert.equal(linkedin(sunsetMs + dayMs).expiring, true);
  });

  it('never flags a version without a published sunset', () => {
    assert.equal(API_VERSIONS.tiktok.sunsetOn, null);
    const tiktok = apiVersionStatus(at('2040-01-01')).find((v) => v.provider === 'tiktok')!;
    assert.equal(tiktok.daysLeft, null);
    assert.equal(tiktok.expiring, false);
  });
});
