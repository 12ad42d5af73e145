import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { documentIdSchema } from '../../functions/src/schema/common.js';
import { metricRowId, metricRowSchema } from '../../functions/src/schema/metrics.js';
import type { MetricRow } from '../../functions/src/schema/metrics.js';

const base = {
  provider: 'meta',
  accountId: '1234567',
  campaignId: '23850000000000001',
  campaignName: 'Spring Sale',
  date: '2025-03-01',
  impressions: 100,
  clicks: 5,
  spend: 12.34,
  currency: 'EUR',
  conversions: 1,
} as const;

describe('schema/metrics', () => {
  it('gives a readable, stable id keyed by provider, account, campaign and date', () => {
    const row: MetricRow = { kind: 'campaign-daily', ...base };
    assert.equal(metricRowId(row), 'meta:1234567:23850000000000001:2025-03-01');
    assert.equal(metricRowId({ ...row, impressions: 999, campaignName: 'renamed' }), metricRowId(row), 'values do not change the key');
  });

  it('adds the breakdown so segments of the same day get distinct ids', () => {
    const a: MetricRow = { kind: 'demographics', ...base, breakdown: { age: '65+', gender: 'female' } };
    const b: MetricRow = { kind: 'demographics', ...base, breakdown: { age: '65+', gender: 'male' } };
    const c: MetricRow = { kind: 'placement', ...base, breakdown: { publisherPlatform: 'instagram', platformPosition: 'story' } };
    assert.equal(metricRowId(a), 'meta:1234567:23850000000000001:2025-03-01:demographics:65@2B:female');
    assert.equal(new Set([a, b, c, { kind: 'campaign-daily', ...base } as MetricRow].map(metricRowId)).size, 4);
  });

  it('produces valid Firestore ids for awkward values, without collisions', () => {
    const rows: MetricRow[] = [
      { kind: 'campaign-daily', ...base, accountId: 'a/b' },
      { kind: 'campaign-daily', ...base, accountId: 'a_b' },
      { kind: 'campaign-daily', ...base, accountId: 'a:b' },
      { kind: 'campaign-daily', ...base, campaignId: 'x'.repeat(300) },
      { kind: 'campaign-daily', ...base, campaignId: 'x'.repeat(301) },
    ];
    const ids = rows.map(metricRowId);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) documentIdSchema.parse(id);
  });

  it('validates rows: counts are non-negative integers, dates real, kinds carry their breakdown', () => {
    assert.ok(metricRowSchema.safeParse({ kind: 'campaign-daily', ...base }).success);
    assert.ok(!metricRowSchema.safeParse({ kind: 'campaign-daily', ...base, clicks: 1.5 }).success);
    assert.ok(!metricRowSchema.safeParse({ kind: 'campaign-daily', ...base, spend: -1 }).success);
    assert.ok(!metricRowSchema.safeParse({ kind: 'campaign-daily', ...base, date: '2025-02-30' }).success);
    assert.ok(!metricRowSchema.safeParse({ kind: 'demographics', ...base }).success);
    assert.ok(!metricRowSchema.safeParse({ kind: 'campaign-daily', ...base, currency: 'euro' }).success);
  });
});
