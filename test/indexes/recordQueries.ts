/**
 * Loaded into every test process (`--import`, see scripts/test.ts): records the shape of
 * each query that code under functions/src runs, as the SDK would send it, and writes the
 * shapes to QUERY_SHAPES_DIR when the process exits. recorded.check.ts then checks every
 * shape against firestore.indexes.json. Queries a test makes for its own assertions are
 * not recorded: only those with a functions/src frame on the stack.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AggregateQuery as AggregateQueryType, Query as QueryType } from 'firebase-admin/firestore';
import { shapeOf, type StructuredQueryProto } from './indexCoverage.js';

// The SDK's own classes; its index does not export AggregateQuery, so it comes from its module.
const require = createRequire(import.meta.url);
const { Query } = require('@google-cloud/firestore') as { Query: typeof QueryType };
const { AggregateQuery } = require('@google-cloud/firestore/build/src/reference/aggregate-query.js') as { AggregateQuery: typeof AggregateQueryType };

const dir = process.env.QUERY_SHAPES_DIR;

interface WithProto {
  toStructuredQuery(): StructuredQueryProto;
}

if (dir) {
  const recorded = new Map<string, { shape: ReturnType<typeof shapeOf>; origin: string }>();
  const record = (query: QueryType) => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 30;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    const frame = stack.split('\n').find((line) => line.includes('/functions/src/'));
    if (!frame) return;
    const origin = /functions\/src\/[^):]+:\d+/.exec(frame)?.[0] ?? frame.trim();
    const shape = shapeOf((query as unknown as WithProto).toStructuredQuery());
    recorded.set(`${JSON.stringify(shape)}@${origin}`, { shape, origin });
  };

  const get = Query.prototype.get;
  Query.prototype.get = function (this: QueryType) {
    record(this);
    return get.call(this);
  } as typeof get;
  const stream = Query.prototype.stream;
  Query.prototype.stream = function (this: QueryType) {
    record(this);
    return stream.call(this);
  } as typeof stream;
  const aggregate = AggregateQuery.prototype.get;
  AggregateQuery.prototype.get = function (this: AggregateQueryType<never>) {
    record(this.query as QueryType);
    return aggregate.call(this);
  } as typeof aggregate;

  process.on('exit', () => {
    if (recorded.size === 0) return;
    writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify([...recorded.values()]));
  });
}
