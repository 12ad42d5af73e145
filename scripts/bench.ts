/** `npm run bench`: runs the benchmarks inside the Firestore and Auth emulators (BENCH=queue or BENCH=sync for one suite). */
import { emulatorEnv, exitCodeOf, firebase } from './emulators.js';

const child = firebase(['emulators:exec', '--only', 'firestore,auth', 'node --import tsx scripts/bench/main.ts'], emulatorEnv());
process.exit(await exitCodeOf(child));
