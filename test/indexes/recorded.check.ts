/**
 * Runs after every other test file (scripts/test.ts): each query shape that code under
 * functions/src ran during the suites must have its index in firestore.indexes.json.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { describeShape, missingIndex, type IndexesFile, type QueryShape } from './indexCoverage.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = process.env.QUERY_SHAPES_DIR;

describe('firestore.indexes.json', () => {
  it('has an index for every query the functions ran during the tests', { skip: dir ? false : 'QUERY_SHAPES_DIR is not set' }, () => {
    const file = JSON.parse(readFileSync(join(ROOT, 'firestore.indexes.json'), 'utf8')) as IndexesFile;
    const seen = new Map<string, { shape: QueryShape; origins: Set<string> }>();
    for (const name of readdirSync(dir!).filter((n) => n.endsWith('.json'))) {
      for (const { shape, origin } of JSON.parse(readFileSync(join(dir!, name), 'utf8')) as { shape: QueryShape; origin: string }[]) {
        const key = JSON.stringify(shape);
        const entry = seen.get(key) ?? { shape, origins: new Set<string>() };
        entry.origins.add(origin);
        seen.set(key, entry);
      }
    }
    assert.ok(seen.size > 0, 'no query was recorded: is test/indexes/recordQueries.ts imported by the test processes?');
    const problems = [...seen.values()].flatMap(({ shape, origins }) => {
      const missing = missingIndex(shape, file);
      return missing ? [`${describeShape(shape)} (${[...origins].sort().join(', ')}): ${missing.reason}; add ${JSON.stringify(missing.add)}`] : [];
    });
    assert.deepEqual(problems, [], `queries without an index in production:\n${problems.join('\n')}`);
  });
});
