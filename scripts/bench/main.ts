/** Runs every benchmark (or those named: queue, sync) and prints one Markdown table. */
import { runQueueBenchmarks } from './queue.js';
import { runSyncBenchmarks } from './sync.js';

const suites = { queue: runQueueBenchmarks, sync: runSyncBenchmarks };
const chosen = (process.env.BENCH ?? 'queue,sync').split(',') as (keyof typeof suites)[];
const rows: string[][] = [];
for (const name of chosen) rows.push(...(await suites[name]()));
console.log('\n| benchmark | ours | baseline | target | result |\n|---|---|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
process.exit(0);
