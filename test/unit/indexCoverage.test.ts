import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { initializeApp } from 'firebase-admin/app';
import { FieldPath, Timestamp, getFirestore, type Query } from 'firebase-admin/firestore';
import { missingIndex, shapeOf, type IndexesFile, type StructuredQueryProto } from '../indexes/indexCoverage.js';

// Queries are only built here, never sent: no emulator needed.
const db = getFirestore(initializeApp({ projectId: 'demo-index-coverage' }, 'index-coverage'));
const shape = (query: Query) => shapeOf((query as unknown as { toStructuredQuery(): StructuredQueryProto }).toStructuredQuery());
const repoIndexes = JSON.parse(readFileSync(join(import.meta.dirname, '../../firestore.indexes.json'), 'utf8')) as IndexesFile;

const jobs = db.collection('syncJobs');
const integrations = db.collectionGroup('integrations');
const now = Timestamp.now();

describe('index coverage rules', () => {
  it('an equality plus a range needs a composite index of the equality field, then the range field', () => {
    const query = shape(jobs.where('status', '==', 'running').where('startedAt', '<=', now));
    assert.deepEqual(missingIndex(query, { indexes: [] })?.add, {
      indexes: [{ collectionGroup: 'syncJobs', queryScope: 'COLLECTION', fields: [{ fieldPath: 'status', order: 'ASCENDING' }, { fieldPath: 'startedAt', order: 'ASCENDING' }] }],
    });
    const index = { collectionGroup: 'syncJobs', queryScope: 'COLLECTION' as const, fields: [{ fieldPath: 'status', order: 'ASCENDING' as const }, { fieldPath: 'startedAt', order: 'ASCENDING' as const }] };
    assert.equal(missingIndex(query, { indexes: [index] }), null);
    // The other range field, or the other scope, does not serve it.
    assert.notEqual(missingIndex(query, { indexes: [{ ...index, fields: [index.fields[0]!, { fieldPath: 'lease.expiresAt', order: 'ASCENDING' }] }] }), null);
    assert.notEqual(missingIndex(query, { indexes: [{ ...index, queryScope: 'COLLECTION_GROUP' }] }), null);
  });

  it('order-by fields must follow in order and direction; equality fields may come in any order', () => {
    const query = shape(jobs.where('status', '==', 'queued').where('userId', '==', 'u').where('runAfter', '<=', now).orderBy('priority', 'desc').orderBy('runAfter'));
    const fields = (...f: [string, 'ASCENDING' | 'DESCENDING'][]) => ({ collectionGroup: 'syncJobs', queryScope: 'COLLECTION' as const, fields: f.map(([fieldPath, order]) => ({ fieldPath, order })) });
    assert.equal(missingIndex(query, { indexes: [fields(['userId', 'ASCENDING'], ['status', 'DESCENDING'], ['priority', 'DESCENDING'], ['runAfter', 'ASCENDING'])] }), null);
    assert.notEqual(missingIndex(query, { indexes: [fields(['status', 'ASCENDING'], ['userId', 'ASCENDING'], ['priority', 'ASCENDING'], ['runAfter', 'ASCENDING'])] }), null);
    assert.notEqual(missingIndex(query, { indexes: [fields(['status', 'ASCENDING'], ['userId', 'ASCENDING'], ['runAfter', 'ASCENDING'], ['priority', 'DESCENDING'])] }), null);
    assert.notEqual(missingIndex(query, { indexes: [fields(['status', 'ASCENDING'], ['priority', 'DESCENDING'], ['runAfter', 'ASCENDING'])] }), null);
  });

  it('single-field indexes: automatic for collection scope, declared in fieldOverrides for collection groups', () => {
    assert.equal(missingIndex(shape(db.collection('events').where('at', '<', now)), { indexes: [] }), null);
    assert.equal(missingIndex(shape(jobs.where('userId', '==', 'u').where('status', '==', 'queued')), { indexes: [] }), null, 'equalities merge');
    const allConnected = shape(integrations.where('status', '==', 'connected').orderBy(FieldPath.documentId()));
    assert.deepEqual(missingIndex(allConnected, { indexes: [] })?.add, {
      fieldOverrides: [{ collectionGroup: 'integrations', fieldPath: 'status', indexes: [{ order: 'ASCENDING', queryScope: 'COLLECTION_GROUP' }] }],
    });
    const override = { collectionGroup: 'integrations', fieldPath: 'status', indexes: [{ order: 'ASCENDING' as const, queryScope: 'COLLECTION_GROUP' as const }] };
    assert.equal(missingIndex(allConnected, { indexes: [], fieldOverrides: [override] }), null);
    // An override replaces the automatic indexes of its field: collection scope needs them listed again.
    assert.notEqual(missingIndex(shape(db.collection('users/u/integrations').where('status', '==', 'connected')), { indexes: [], fieldOverrides: [override] }), null);
  });

  it('equality filters only: served by a composite of exactly those fields, or by merged single-field indexes', () => {
    const unscheduled = shape(integrations.where('status', '==', 'connected').where('automation.enabled', '==', true).where('nextRunAt', '==', null).orderBy(FieldPath.documentId()));
    const composite = { collectionGroup: 'integrations', queryScope: 'COLLECTION_GROUP' as const, fields: ['status', 'automation.enabled', 'nextRunAt'].map((fieldPath) => ({ fieldPath, order: 'ASCENDING' as const })) };
    assert.equal(missingIndex(unscheduled, { indexes: [composite] }), null);
    assert.notEqual(missingIndex(unscheduled, { indexes: [{ ...composite, fields: composite.fields.slice(0, 2) }] }), null);
  });

  it('a document-id order-by needs nothing extra', () => {
    const due = shape(integrations.where('status', '==', 'connected').where('automation.enabled', '==', true).where('nextRunAt', '<=', now).orderBy('nextRunAt').orderBy(FieldPath.documentId()));
    const index = { collectionGroup: 'integrations', queryScope: 'COLLECTION_GROUP' as const, fields: ['status', 'automation.enabled', 'nextRunAt'].map((fieldPath) => ({ fieldPath, order: 'ASCENDING' as const })) };
    assert.equal(missingIndex(due, { indexes: [index] }), null);
  });
});

describe('firestore.indexes.json before these checks existed', () => {
  // The file as it was: reset_stale_jobs and "schedule for all users" ran on the emulator
  // and would have failed in production.
  const original: IndexesFile = {
    indexes: repoIndexes.indexes.filter((i) => !i.fields.some((f) => f.fieldPath === 'startedAt')),
    fieldOverrides: repoIndexes.fieldOverrides?.filter((o) => o.collectionGroup !== 'integrations'),
  };

  it('lacked the index of resetStaleJobs\' long-running query; the repository file has it', () => {
    const longRunning = shape(jobs.where('status', '==', 'running').where('startedAt', '<=', now).limit(500));
    assert.match(missingIndex(longRunning, original)?.reason ?? '', /composite/);
    assert.equal(missingIndex(longRunning, repoIndexes), null);
  });

  it('lacked the collection-group single-field indexes of the all-users fan-out; the repository file has them', () => {
    for (const query of [
      integrations.where('status', '==', 'connected').orderBy(FieldPath.documentId()),
      integrations.where('status', '==', 'connected').where('providerId', '==', 'meta').orderBy(FieldPath.documentId()),
    ]) {
      assert.match(missingIndex(shape(query), original)?.reason ?? '', /collection-group single-field/);
      assert.equal(missingIndex(shape(query), repoIndexes), null);
    }
  });
});
