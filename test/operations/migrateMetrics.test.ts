import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { Timestamp } from 'firebase-admin/firestore';
import { metricRowId, type MetricRow } from '../../functions/src/schema/index.js';
import { readExistingMetrics, writeMetrics } from '../../functions/src/sync/store.js';
import { expectedRows } from '../../scripts/sandbox/server.js';
import { migrateDailyMetrics } from '../../scripts/migrateMetrics.js';
import { dumpDatabase, testFirebase } from '../helpers/firebase.js';
import { documentsFor, metricsOf } from '../helpers/syncBed.js';

const fb = testFirebase('migrate-metrics');
beforeEach(() => fb.clear());
after(() => fb.close());

// Alice: Meta's three kinds over a month boundary; Bob: TikTok only, and no user document of his own.
const META = { start: '2025-01-27', end: '2025-02-06' };
const TIKTOK = { start: '2025-03-01', end: '2025-03-10' };
const aliceRows = (['campaign-daily', 'demographics', 'placement'] as const).flatMap((kind) => expectedRows('meta', '998877', kind, META));
const bobRows = expectedRows('tiktok', '7100000000000000042', 'campaign-daily', TIKTOK);
const byId = (rows: Iterable<Record<string, unknown>>) => new Map([...rows].map((r) => [metricRowId(r as MetricRow), { ...r }]));

async function seedDailyLayout() {
  await fb.db.doc('users/alice').set({ email: 'alice@example.com' });
  const writer = fb.db.bulkWriter();
  const fetchedAt = Timestamp.fromMillis(Date.parse('2025-03-11T00:00:00Z'));
  for (const [uid, rows] of [['alice', aliceRows], ['bob', bobRows]] as const) {
    for (const row of rows) void writer.set(fb.db.doc(`users/${uid}/metrics/${metricRowId(row)}`), { ...row, fetchedAt });
  }
  void writer.set(fb.db.doc('users/alice/metrics/broken'), { provider: 'meta', note: 'not a metric row' });
  await writer.close();
}

describe('migrating daily metric documents to month documents', () => {
  it('a dry run counts and changes nothing', async () => {
    await seedDailyLayout();
    const before = await dumpDatabase(fb);
    const counts = await migrateDailyMetrics(fb.db, { apply: false, pageSize: 100 });
    const monthDocs = documentsFor(aliceRows) + documentsFor(bobRows);
    const totalsDocs = new Set([...aliceRows, ...bobRows].map((r) => `${r.provider}:${r.date.slice(0, 7)}`)).size;
    assert.deepEqual(counts, {
      users: 2,
      dailyDocuments: aliceRows.length + bobRows.length + 1,
      invalid: 1,
      monthDocuments: monthDocs - totalsDocs,
      totalsDocuments: totalsDocs,
      rowsMoved: aliceRows.length + bobRows.length,
      dailyDeleted: 0,
    });
    assert.deepEqual(await dumpDatabase(fb), before);
  });

  it('applied: every row in month documents and totals, the daily documents gone, a second run does nothing', async () => {
    await seedDailyLayout();
    const counts = await migrateDailyMetrics(fb.db, { apply: true, pageSize: 100 });
    assert.equal(counts.dailyDeleted, aliceRows.length + bobRows.length);
    assert.deepEqual(await metricsOf(fb.db, 'alice'), byId(aliceRows));
    assert.deepEqual(await metricsOf(fb.db, 'bob'), byId(bobRows));
    const left = await fb.db.collectionGroup('metrics').get();
    assert.deepEqual(left.docs.map((d) => d.ref.path), ['users/alice/metrics/broken'], 'only what is not a metric row stays');

    const before = await dumpDatabase(fb);
    const again = await migrateDailyMetrics(fb.db, { apply: true });
    assert.deepEqual([again.users, again.monthDocuments, again.totalsDocuments, again.rowsMoved, again.dailyDeleted], [1, 0, 0, 0, 0]);
    assert.deepEqual(await dumpDatabase(fb), before);
  });

  it('a day a sync stored since the deploy is newer than its daily document and is kept', async () => {
    await seedDailyLayout();
    // A sync after the deploy restated Bob's 2025-03-05 (one more conversion per campaign).
    const fresh = bobRows.filter((r) => r.date === '2025-03-05').map((r) => ({ ...r, conversions: r.conversions + 1 }));
    await writeMetrics(fb.db, 'bob', fresh, await readExistingMetrics(fb.db, 'bob', 'tiktok', TIKTOK));
    await migrateDailyMetrics(fb.db, { apply: true });
    const expected = byId([...bobRows.filter((r) => r.date !== '2025-03-05'), ...fresh]);
    assert.deepEqual(await metricsOf(fb.db, 'bob'), expected);
    assert.equal((await fb.db.collection('users/bob/metrics').count().get()).data().count, 0);
  });
});
