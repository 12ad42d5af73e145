import { parseArgs } from 'node:util';
import { startSandbox } from './server.js';

/** `tsx scripts/sandbox/main.ts --port 8790 [--latency 20]`: the four platforms for the demo. */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8790' },
    host: { type: 'string', default: '127.0.0.1' },
    latency: { type: 'string', default: '0' },
  },
});

const port = Number(values.port);
const latencyMs = Number(values.latency);
if (!Number.isInteger(port) || port < 0 || port > 65_535 || !Number.isFinite(latencyMs) || latencyMs < 0) {
  console.error('usage: main.ts [--port 8790] [--host 127.0.0.1] [--latency ms]');
  process.exit(2);
}

// The demo runs for hours: its request log keeps the last 1,000 requests, not every one.
const sandbox = await startSandbox({ port, host: values.host, latencyMs, requestLogLimit: 1_000 });
console.log(`provider sandbox listening on ${sandbox.url}`);
for (const [provider, urls] of Object.entries(sandbox.baseUrls)) console.log(`  ${provider.padEnd(8)} ${Object.values(urls).join('  ')}`);

const stop = () => {
  void sandbox.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
