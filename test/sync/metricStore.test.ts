import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { METRIC_MONTHS_COLLECTION, METRIC_TOTALS_COLLECTION, metricRowId, type MetricRow } from '../../functions/src/schema/index.js';
import { readExistingMetrics, writeMetrics } from '../../functions/src/sync/store.js';
import { expectedRows } from '../../scripts/sandbox/server.js';
import { testFirebase } from '../helpers/firebase.js';
import { metricsOf, metricVersionsOf } from '../helpers/syncBed.js';

const fb = testFirebase('metric-store');
beforeEach(() => fb.clear());
after(() => fb.close());

const ACCOUNT = '4455667788';
const rowsFor = (start: string, end: string) =>
  (['campaign-daily', 'demographics', 'placement'] as const).flatMap((kind) => expectedRows('meta', ACCOUNT, kind, { start, end }));
const byId = (rows: readonly MetricRow[]) => new Map(rows.map((r) => [metricRowId(r), { ...r }]));

async function store(userId: string, rows: readonly MetricRow[], window: { start: string; end: string }) {
  return writeMetrics(fb.db, userId, rows, await readExistingMetrics(fb.db, userId, 'meta', window));
}

describe('metric storage in month documents', () => {
  it('two lanes writing the same months at once keep every day of both', async () => {
    // A backfill's last chunk and a daily sync overlap in March; each read what was stored before either wrote.
    const backfill = { start: '2025-02-10', end: '2025-03-15' };
    const daily = { start: '2025-03-10', end: '2025-04-05' };
    for (let round = 0; round < 3; round++) {
      await fb.clear();
      const [a, b] = await Promise.all([readExistingMetrics(fb.db, 'u', 'meta', backfill), readExistingMetrics(fb.db, 'u', 'meta', daily)]);
      await Promise.all([
        writeMetrics(fb.db, 'u', rowsFor(backfill.start, backfill.end), a),
        writeMetrics(fb.db, 'u', rowsFor(daily.start, daily.end), b),
      ]);
      const stored = [...(await metricsOf(fb.db, 'u')).values()] as MetricRow[];
      assert.deepEqual(byId(stored), byId(rowsFor(backfill.start, daily.end)), `round ${round}: every day of both lanes`);
    }
  });

  it('writes only the days that changed, and a restated day replaces the stored one whole', async () => {
    const window = { start: '2025-05-20', end: '2025-06-16' };
    const rows = rowsFor(window.start, window.end);
    const first = await store('u', rows, window);
    assert.equal(first.written, rows.length);
    const versions = await metricVersionsOf(fb.db, 'u');
    assert.equal(first.documents, versions.size);

    // The platform restates one campaign's 2025-06-03 (more conversions) and a segment of it disappears.
    const campaignId = rows.find((r) => r.date === '2025-06-03' && r.kind === 'demographics')!.campaignId;
    const restated = rows
      .filter((r) => !(r.date === '2025-06-03' && r.campaignId === campaignId && r.kind === 'demographics' && r.breakdown.age === '18-24'))
      .map((r) => (r.date === '2025-06-03' && r.campaignId === campaignId ? { ...r, conversions: r.conversions + 1 } : r));
    const second = await store('u', restated, window);
    const changedRows = restated.filter((r) => r.date === '2025-06-03' && r.campaignId === campaignId);
    assert.equal(second.written, changedRows.length, 'only the restated day\'s rows');
    // Its three kinds' June documents and June's account totals.
    assert.equal(second.documents, 4);
    const after = await metricVersionsOf(fb.db, 'u');
    const rewritten = [...after].filter(([path, version]) => versions.get(path) !== version).map(([path]) => path.split('/')[2]).sort();
    assert.deepEqual(rewritten, [METRIC_MONTHS_COLLECTION, METRIC_MONTHS_COLLECTION, METRIC_MONTHS_COLLECTION, METRIC_TOTALS_COLLECTION]);
    assert.deepEqual(byId([...(await metricsOf(fb.db, 'u')).values()] as MetricRow[]), byId(restated), 'the restated day as the platform now reports it, the rest untouched');

    const third = await store('u', restated, window);
    assert.deepEqual([third.written, third.documents], [0, 0]);
  });

  it('a renamed campaign updates its name without rewriting a day', async () => {
    const window = { start: '2025-07-01', end: '2025-07-31' };
    const rows = expectedRows('meta', ACCOUNT, 'campaign-daily', window);
    await store('u', rows, window);
    const renamedId = rows[0]!.campaignId;
    const renamed = rows.map((r) => (r.campaignId === renamedId ? { ...r, campaignName: 'Renamed' } : r));
    const result = await store('u', renamed, window);
    assert.deepEqual([result.written, result.documents], [0, 2], 'the campaign\'s month and the account totals');
    const totals = (await fb.db.collection(`users/u/${METRIC_TOTALS_COLLECTION}`).get()).docs[0]!;
    assert.equal(totals.get('campaigns')[renamedId], 'Renamed');
    assert.ok([...(await metricsOf(fb.db, 'u')).values()].filter((r) => r.campaignId === renamedId).every((r) => r.campaignName === 'Renamed'));
  });
});
