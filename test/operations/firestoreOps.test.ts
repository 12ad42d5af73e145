import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { measure } from '../../scripts/bench/firestoreOps.js';
import { testFirebase } from '../helpers/firebase.js';

/** The counter behind the cost table in docs/operations.md: each kind of operation counted as Firestore bills it. */
const fb = testFirebase('firestore-ops');
beforeEach(() => fb.clear());
after(() => fb.close());

describe('counting Firestore operations', () => {
  it('reads: one per document returned, one for a query that returns none, one per 1,000 entries counted', async () => {
    const col = fb.db.collection('things');
    await Promise.all([1, 2, 3, 4, 5].map((i) => col.doc(`t${i}`).set({ i })));
    assert.deepEqual((await measure(() => col.doc('t1').get())).ops, { reads: 1, writes: 0, deletes: 0 });
    assert.deepEqual((await measure(() => col.doc('missing').get())).ops, { reads: 1, writes: 0, deletes: 0 });
    assert.deepEqual((await measure(() => col.where('i', '>', 2).get())).ops, { reads: 3, writes: 0, deletes: 0 });
    assert.deepEqual((await measure(() => col.where('i', '>', 99).get())).ops, { reads: 1, writes: 0, deletes: 0 });
    assert.deepEqual((await measure(() => col.count().get())).ops, { reads: 1, writes: 0, deletes: 0 });
    assert.deepEqual((await measure(() => fb.db.getAll(col.doc('t1'), col.doc('t2'), { fieldMask: ['i'] }))).ops, { reads: 2, writes: 0, deletes: 0 });
    assert.deepEqual((await measure(() => fb.db.runTransaction(async (tx) => (await tx.get(col.doc('t1'))).get('i')))).ops, { reads: 1, writes: 0, deletes: 0 });
  });

  it('writes and deletes, alone, in a batch, in a transaction and through a BulkWriter', async () => {
    const col = fb.db.collection('things');
    assert.deepEqual((await measure(() => col.doc('a').set({ x: 1 }))).ops, { reads: 0, writes: 1, deletes: 0 });
    const batch = async () => {
      const b = fb.db.batch();
      b.set(col.doc('b'), { x: 1 });
      b.update(col.doc('a'), { x: 2 });
      b.create(col.doc('c'), { x: 1 });
      b.delete(col.doc('b'));
      await b.commit();
    };
    assert.deepEqual((await measure(batch)).ops, { reads: 0, writes: 3, deletes: 1 });
    assert.deepEqual((await measure(() => fb.db.runTransaction(async (tx) => void tx.set(col.doc('d'), { x: 1 })))).ops, { reads: 0, writes: 1, deletes: 0 });
    const bulk = async () => {
      const writer = fb.db.bulkWriter();
      void writer.set(col.doc('e'), { x: 1 });
      void writer.delete(col.doc('c'));
      void writer.delete(col.doc('d'));
      await writer.close();
    };
    assert.deepEqual((await measure(bulk)).ops, { reads: 0, writes: 1, deletes: 2 });
  });
});
