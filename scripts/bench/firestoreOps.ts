/**
 * Counts Firestore operations as they are billed, at the Admin SDK's boundary, while code
 * runs in this process: a document read per document returned (a query that returns none
 * still costs one read, an aggregation one per 1,000 index entries counted), a write per
 * set, update or create, a delete per delete, whether sent alone, in a batch, in a
 * transaction or through a BulkWriter (counted as sent: a write a precondition refuses, or a
 * BulkWriter's retry, counts too). Patches the SDK's own classes (the same ones firebase-admin uses), so nothing
 * in functions/src changes to be measured.
 */
import { createRequire } from 'node:module';
import type { AggregateQuery, DocumentReference, Firestore, Query, QuerySnapshot, Transaction, WriteBatch } from 'firebase-admin/firestore';

export interface OperationCounts {
  reads: number;
  writes: number;
  deletes: number;
}

const require = createRequire(import.meta.url);
const sdk = require('@google-cloud/firestore') as {
  Firestore: { prototype: Firestore };
  Query: { prototype: Query };
  WriteBatch: { prototype: WriteBatch };
  Transaction: { prototype: Transaction };
  DocumentReference: new (...args: never[]) => DocumentReference;
};
const { AggregateQuery: AggregateQueryClass } = require('@google-cloud/firestore/build/src/reference/aggregate-query.js') as {
  AggregateQuery: { prototype: AggregateQuery<never> };
};

/** The SDK's pending writes of a batch: each turns into one `Write` proto, a delete or not. */
type PendingOps = { _ops: { op: () => { delete?: unknown } }[] };

const counts: OperationCounts = { reads: 0, writes: 0, deletes: 0 };
let installed = false;

function countWrites(batch: PendingOps): void {
  for (const pending of batch._ops) {
    if (pending.op().delete) counts.deletes++;
    else counts.writes++;
  }
}

/** Installs the counters once; every later `measure` reads them. */
export function installOperationCounters(): void {
  if (installed) return;
  installed = true;
  const firestore = sdk.Firestore.prototype as unknown as { getAll: (...refs: unknown[]) => Promise<unknown[]> };
  const getAll = firestore.getAll;
  firestore.getAll = function (this: unknown, ...args: unknown[]) {
    // The trailing argument may be read options, not a document.
    counts.reads += args.filter((a) => typeof a === 'object' && a !== null && 'path' in a).length;
    return getAll.apply(this, args);
  };
  // Query.get and a transaction's query both run _get, which answers { result: QuerySnapshot }.
  const query = sdk.Query.prototype as unknown as { _get: (...args: unknown[]) => Promise<{ result: QuerySnapshot }> };
  const queryGet = query._get;
  query._get = async function (this: unknown, ...args: unknown[]) {
    const response = await queryGet.apply(this, args);
    counts.reads += Math.max(1, response.result.size);
    return response;
  };
  const aggregate = AggregateQueryClass.prototype as unknown as { get: () => Promise<{ data(): { count?: number } }> };
  const aggregateGet = aggregate.get;
  aggregate.get = async function (this: unknown) {
    const snap = await aggregateGet.call(this);
    counts.reads += Math.max(1, Math.ceil((snap.data().count ?? 0) / 1000));
    return snap;
  };
  const transaction = sdk.Transaction.prototype as unknown as { get: (ref: unknown) => Promise<unknown> };
  const transactionGet = transaction.get;
  transaction.get = function (this: unknown, ref: unknown) {
    // A query inside a transaction is counted by _get; a document here.
    if (ref instanceof sdk.DocumentReference) counts.reads++;
    return transactionGet.call(this, ref);
  };
  // Batches, single writes (a one-write batch), transactions and a BulkWriter's batches all commit through _commit.
  const batch = sdk.WriteBatch.prototype as unknown as { _commit: (...args: unknown[]) => Promise<unknown> };
  const commit = batch._commit;
  batch._commit = function (this: PendingOps, ...args: unknown[]) {
    countWrites(this);
    return commit.apply(this, args);
  };
}

/** The operations `work` caused (everything this process sent to Firestore meanwhile). */
export async function measure<T>(work: () => Promise<T>): Promise<{ result: T; ops: OperationCounts }> {
  installOperationCounters();
  const before = { ...counts };
  const result = await work();
  return { result, ops: { reads: counts.reads - before.reads, writes: counts.writes - before.writes, deletes: counts.deletes - before.deletes } };
}
