/**
 * `npm start`: the whole system on this machine. Emulators (Firestore, Auth, Functions,
 * Hosting), the provider sandbox, demo data, and a scheduler loop calling the endpoints on their schedules.
 */
import { ensureLocalConfig, DEMO_ADMIN_EMAIL, DEMO_PASSWORD, DEMO_USER_EMAIL, sandboxPort } from './localConfig.js';
import { startSandbox } from './sandbox/server.js';
import { emulatorEnv, emulatorProfile, exitCodeOf, firebase } from './emulators.js';
import { startSchedulerLoop } from './schedulerLoop.js';
import { seedDemo } from './seedDemo.js';

const profile = emulatorProfile('start');
console.log(`Starting Ads Hub Sync: the Ads Hub will be at ${profile.hostingOrigin} (sign in as ${DEMO_USER_EMAIL} or ${DEMO_ADMIN_EMAIL}, password ${DEMO_PASSWORD}).`);
const { cronKey } = ensureLocalConfig(profile);
const sandbox = await startSandbox({ port: sandboxPort(profile), latencyMs: 150 });
// The demo's slow platform: TikTok answers in about a second, so the demo user's history
// backfill is seen loading, with progress and ETA, for the first minutes.
sandbox.setFaults('tiktok', { latencyMs: 900 });
const emulators = firebase(profile, ['emulators:start', '--only', 'firestore,auth,functions,hosting'], emulatorEnv());
const { functionsBaseUrl } = profile;

async function waitForHealth(timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${functionsBaseUrl}/health`);
      if (response.status === 200 || response.status === 503) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error('the Functions emulator did not come up in time');
}

await waitForHealth();
process.env.FIRESTORE_EMULATOR_HOST = profile.firestoreHost;
process.env.FIREBASE_AUTH_EMULATOR_HOST = profile.authHost;
await seedDemo(profile.projectId, sandbox);
const loop = startSchedulerLoop({ functionsBaseUrl, cronKey });

console.log(`
Ads Hub Sync is running locally.
  Ads Hub:          ${profile.hostingOrigin}
  Sign in as:       ${DEMO_USER_EMAIL} / ${DEMO_PASSWORD}   (a marketer: four platforms in four states)
                    ${DEMO_ADMIN_EMAIL} / ${DEMO_PASSWORD}  (an admin: also the queue dashboard)
  Functions:        ${functionsBaseUrl}/{cron,worker,schedule,process,health,status}
  Health:           ${functionsBaseUrl}/health
  Provider sandbox: ${sandbox.url} (Meta, Google Ads, LinkedIn, TikTok APIs with demo data)
  Demo cron key:    ${cronKey}   (x-cron-key header; stored in functions/.secret.local)
  Try:              curl -X POST -H 'x-cron-key: ${cronKey}' -H 'content-type: application/json' \\
                      -d '{"maxJobs":20}' ${functionsBaseUrl}/worker
Press Ctrl+C to stop.
`);

const stop = () => {
  loop.stop();
  void sandbox.close();
  emulators.kill('SIGINT');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.exit(await exitCodeOf(emulators));
