/** Runs every benchmark (or those named: queue, sync, chaos, capacity, cleanup, costs) and prints one Markdown table. */
import { runCapacityBenchmarks } from './capacity.js';
import { runChaosBenchmarks } from './chaos.js';
import { runCleanupBenchmarks } from './cleanup.js';
import { runCostBenchmarks } from './costs.js';
import { runQueueBenchmarks } from './queue.js';
import { runSyncBenchmarks } from './sync.js';

const suites = { queue: runQueueBenchmarks, sync: runSyncBenchmarks, chaos: runChaosBenchmarks, capacity: runCapacityBenchmarks, cleanup: runCleanupBenchmarks, costs: runCostBenchmarks };
const chosen = (process.env.BENCH ?? 'queue,sync,chaos,capacity,cleanup,costs').split(',') as (keyof typeof suites)[];
const rows: string[][] = [];
for (const name of chosen) rows.push(...(await suites[name]()));
console.log('\n| benchmark | ours | baseline | target | result |\n|---|---|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
process.exit(0);
