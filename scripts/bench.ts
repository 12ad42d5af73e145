/** `npm run bench`: runs the benchmarks inside the Firestore and Auth emulators (BENCH=<suite>[,<suite>] for some of queue, sync, chaos, capacity, cleanup, costs). */
import { emulatorEnv, emulatorProfile, exitCodeOf, firebase } from './emulators.js';

// The test profile's ports: benchmarks run beside `npm start` without touching its data.
const child = firebase(emulatorProfile('test'), ['emulators:exec', '--only', 'firestore,auth', 'node --import tsx scripts/bench/main.ts'], emulatorEnv());
process.exit(await exitCodeOf(child));
