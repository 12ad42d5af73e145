import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addDays, assertWindow, daysPerRequest, eachDay, sliceWindow, windowDays } from '../../functions/src/providers/dates.js';
import { PermanentError } from '../../functions/src/providers/errors.js';

describe('providers/dates', () => {
  it('adds days across month, year and leap-day boundaries', () => {
    assert.equal(addDays('2024-02-28', 1), '2024-02-29');
    assert.equal(addDays('2023-02-28', 1), '2023-03-01');
    assert.equal(addDays('2024-12-31', 1), '2025-01-01');
    assert.equal(addDays('2025-01-01', -1), '2024-12-31');
  });

  it('counts inclusive days and lists them', () => {
    assert.equal(windowDays({ start: '2025-01-01', end: '2025-01-01' }), 1);
    assert.equal(windowDays({ start: '2024-01-01', end: '2024-12-31' }), 366);
    assert.deepStrictEqual(eachDay({ start: '2025-02-27', end: '2025-03-02' }), ['2025-02-27', '2025-02-28', '2025-03-01', '2025-03-02']);
  });

  it('slices a window into consecutive pieces that cover it exactly once', () => {
    assert.deepStrictEqual(sliceWindow({ start: '2024-06-01', end: '2024-09-03' }, 30), [
      { start: '2024-06-01', end: '2024-06-30' },
      { start: '2024-07-01', end: '2024-07-30' },
      { start: '2024-07-31', end: '2024-08-29' },
      { start: '2024-08-30', end: '2024-09-03' },
    ]);
    assert.deepStrictEqual(sliceWindow({ start: '2025-01-01', end: '2025-01-30' }, 30), [{ start: '2025-01-01', end: '2025-01-30' }]);
    assert.deepStrictEqual(sliceWindow({ start: '2025-01-01', end: '2025-01-03' }, 1).length, 3);
    const slices = sliceWindow({ start: '2023-03-15', end: '2025-11-02' }, 7);
    assert.deepStrictEqual(slices.flatMap(eachDay), eachDay({ start: '2023-03-15', end: '2025-11-02' }));
    assert.throws(() => sliceWindow({ start: '2025-01-01', end: '2025-01-03' }, 0), RangeError);
  });

  it('sizes requests so campaigns x days stays under a cap', () => {
    assert.equal(daysPerRequest(8, 15_000), 1875);
    assert.equal(daysPerRequest(7, 60), 8);
    assert.equal(daysPerRequest(0, 60), 60);
    assert.equal(daysPerRequest(100_000, 15_000), 1, 'never zero days');
  });

  it('refuses malformed windows with PermanentError naming the field', () => {
    assert.doesNotThrow(() => assertWindow('google', { start: '2024-02-29', end: '2024-03-01' }));
    assert.throws(() => assertWindow('google', { start: '2023-02-29', end: '2023-03-01' }), (e: unknown) => e instanceof PermanentError && /window\.start/.test(e.message));
    assert.throws(() => assertWindow('meta', { start: '2024-01-01', end: '2024-1-2' }), /window\.end/);
    assert.throws(() => assertWindow('meta', { start: '2024-02-02', end: '2024-02-01' }), /after it ends/);
  });
});
