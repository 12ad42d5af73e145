import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { circuitsCollection } from '../../functions/src/queue/index.js';
import { testFirebase } from '../helpers/firebase.js';
import { CircuitView } from '../../functions/src/queue/circuit.js';
import { adsQueue } from '../../functions/src/scheduler/jobs.js';

const fb = testFirebase('queue-circuit-pause');
beforeEach(() => fb.clear());
after(() => fb.close());

const policy = { failureThreshold: 5, cooldownMs: 60_000 };
const version = async () => (await circuitsCollection(fb.db).doc('linkedin').get()).updateTime!.toMillis() + (await circuitsCollection(fb.db).doc('linkedin').get()).updateTime!.nanoseconds / 1e6;

describe('a platform pause is written once per reset time', () => {
  it('jobs deferred to the same reset do not rewrite the circuit document; a later reset does', async () => {
    const until = new Date(Date.now() + 3_600_000);
    const view = new CircuitView(adsQueue(fb.db).circuits, policy);
    await view.refresh(true);
    await view.pause('linkedin', until, 'LinkedIn daily request limit reached');
    const first = await version();
    await Promise.all([view.pause('linkedin', until, 'again'), view.pause('linkedin', until, 'again')]);
    assert.equal(await version(), first, 'the same pause in the same worker');

    const other = new CircuitView(adsQueue(fb.db).circuits, policy);
    await other.refresh(true);
    await other.pause('linkedin', until, 'again');
    assert.equal(await version(), first, 'the same pause seen by another worker');
    assert.equal((await circuitsCollection(fb.db).doc('linkedin').get()).get('lastError'), 'LinkedIn daily request limit reached');

    await other.pause('linkedin', new Date(until.getTime() + 60_000), 'later');
    assert.notEqual(await version(), first);
    assert.deepEqual([...other.paused()], ['linkedin']);
  });
});

describe('a damaged circuit document', () => {
  it('counts as a closed circuit for its group and stops nothing else', async () => {
    await circuitsCollection(fb.db).doc('google').set({ consecutiveFailures: 'many', openUntil: 'soon' });
    await circuitsCollection(fb.db).doc('meta').set({ consecutiveFailures: 2, openUntil: null, lastError: 'HTTP 500' });
    const states = await adsQueue(fb.db).circuits.load();
    assert.deepEqual(states.get('google'), { group: 'google', consecutiveFailures: 0, openUntil: null, lastError: null });
    assert.equal(states.get('meta')!.consecutiveFailures, 2);
  });
});
