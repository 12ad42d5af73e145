import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getAuth } from 'firebase-admin/auth';
import { FieldPath, FieldValue, Timestamp, getFirestore } from 'firebase-admin/firestore';
import type { Browser, Page } from 'playwright-core';
import { nextRunAfter } from '../../functions/src/scheduler/cadence.js';
import { clearEmulatorProject } from '../../scripts/emulatorData.js';
import { DEMO_PASSWORD, DEMO_USER_EMAIL } from '../../scripts/localConfig.js';
import { startSandbox, type Sandbox } from '../../scripts/sandbox/server.js';
import { seedDemo } from '../../scripts/seedDemo.js';
import { AUTH_HOST, FIRESTORE_HOST } from '../helpers/firebase.js';
import { usesEmulatorProject } from '../setup/emulatorProjects.js';
import { DESKTOP, ORIGIN, PHONE, launch, newPage, overflowingElements, screenshot, signIn, unlabelledControls, unreachableByKeyboard } from './browser.js';
import { enqueueJob } from '../../functions/src/scheduler/jobs.js';

/**
 * The Ads Hub in a real Chromium against the emulators, the built functions (through the
 * Hosting emulator's rewrites), the Firestore trigger that starts work, and the provider
 * sandbox on the port the functions call. Each flow asserts what the person sees.
 */
const PROJECT = process.env.FUNCTIONS_TEST_PROJECT ?? 'demo-ads-hub-test';
const SANDBOX_PORT = Number(process.env.E2E_SANDBOX_PORT ?? 8800);
const PASSWORD = 'e2e-password-1';
const USER = 'marketer@example.com';
const ADMIN = 'admin@example.com';

const app = initializeApp({ projectId: PROJECT }, 'e2e');
const db = getFirestore(app);
const auth = getAuth(app);
let sandbox: Sandbox;
let browser: Browser;
let userPage: Page;
let userUid: string;
/** Figures for the report (not assertions: speed is not a test's business). */
const figures: Record<string, number> = {};

usesEmulatorProject(PROJECT);
const clearProject = () => clearEmulatorProject(PROJECT, { firestoreHost: FIRESTORE_HOST, authHost: AUTH_HOST });

before(async () => {
  await clearProject();
  // Some latency per request, so a backfill and a sync take long enough to be seen running.
  sandbox = await startSandbox({ port: SANDBOX_PORT, latencyMs: 40 });
  userUid = (await auth.createUser({ email: USER, password: PASSWORD, emailVerified: true })).uid;
  await auth.createUser({ email: ADMIN, password: PASSWORD, emailVerified: true });
  await db.doc(`users/${userUid}`).set({ email: USER, displayName: 'Marketer', createdAt: Timestamp.now() });
  browser = await launch();
  userPage = (await newPage(browser)).page;
});

after(async () => {
  console.log(`e2e figures: ${JSON.stringify(figures)}`);
  await browser?.close();
  await sandbox?.close();
  await deleteApp(app);
  await clearProject();
});

const card = (page: Page, providerId: string) => page.getByTestId(`card-${providerId}`);

/** The document once it satisfies the condition, read as it changes (a listener, no sleeps). */
function docWhen(path: string, condition: (data: Record<string, { cadence?: string } | undefined>) => boolean): Promise<Record<string, unknown> & { automation?: unknown; nextRunAt?: unknown }> {
  return new Promise((resolve, reject) => {
    const stop = db.doc(path).onSnapshot((snap) => {
      const data = snap.data();
      if (data && condition(data)) {
        stop();
        resolve(data);
      }
    }, reject);
  });
}

/** The platform's authorize page: press Allow, pick the account, connect it. Returns when the Ads Hub shows the cards again. */
async function connectThroughSandbox(page: Page, providerId: string, label: string, action: 'Connect' | 'Reconnect' = 'Connect'): Promise<number> {
  await card(page, providerId).getByRole('button', { name: `${action} ${label}` }).click();
  await page.waitForURL(/127\.0\.0\.1:\d+\/.+/);
  assert.ok(page.url().startsWith(`http://127.0.0.1:${SANDBOX_PORT}/${providerId}/`), `the sandbox's ${label} page: ${page.url()}`);
  await page.getByRole('heading', { name: 'Ads Hub wants to read your ads reporting' }).waitFor();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.getByRole('group', { name: 'Choose the ad account to sync' }).waitFor();
  await page.getByRole('radio').first().check();
  const connectedAt = Date.now();
  await page.getByRole('button', { name: 'Connect account' }).click();
  await page.getByRole('heading', { name: 'Your ad platforms' }).waitFor();
  return connectedAt;
}

/** Waits until the card's job of that type shows the status, recording every status it went through. */
async function jobStatuses(page: Page, providerId: string, jobType: string, until: string): Promise<string[]> {
  const seen: string[] = [];
  const job = card(page, providerId).getByTestId(`job-${jobType}`);
  for (;;) {
    const status = await job.getAttribute('data-status', { timeout: 60_000 }).catch(() => null);
    if (status && seen.at(-1) !== status) seen.push(status);
    if (status === until) return seen;
    if (status === 'failed' && until !== 'failed') assert.fail(`${jobType} failed: ${await job.innerText()}`);
    await page.waitForTimeout(100);
  }
}

describe('the Ads Hub in Chromium', () => {
  it('signs in; connects TikTok on the sandbox OAuth page; the backfill shows progress to done; the chart shows data', async () => {
    const page = userPage;
    await page.goto(ORIGIN);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Your ad platforms' }).count(), 0, 'signed out: only the sign-in page');
    await signIn(page, USER, PASSWORD);
    for (const label of ['Google Ads', 'Meta Ads', 'LinkedIn Ads', 'TikTok Ads']) {
      await page.getByRole('heading', { name: label, level: 2 }).waitFor();
      assert.equal(await page.getByRole('button', { name: `Connect ${label}` }).count(), 1);
    }
    await screenshot(page, 'signed-in-empty');

    // Slow TikTok down a little so the nine parts of two years are seen moving.
    sandbox.setFaults('tiktok', { latencyMs: 150 });
    const connectedAt = await connectThroughSandbox(page, 'tiktok', 'TikTok Ads');
    // The recent weeks load beside the history: the chart should not wait for the backfill.
    const firstChart = page.locator('[data-testid="metrics-chart"] .recharts-area-curve').waitFor({ timeout: 120_000 }).then(() => Date.now() - connectedAt);
    await page.getByText('TikTok Ads is connected. Its history is loading now').waitFor();
    const progress = card(page, 'tiktok').getByRole('progressbar', { name: 'History backfill progress' });
    await page.waitForFunction(() => {
      const bar = document.querySelector('[data-testid="card-tiktok"] [role="progressbar"]');
      const done = Number(bar?.getAttribute('aria-valuenow'));
      return done > 0 && done < Number(bar?.getAttribute('aria-valuemax'));
    });
    assert.match((await progress.getAttribute('aria-valuetext')) ?? '', /^\d of 9$/);
    assert.match(await card(page, 'tiktok').innerText(), /\d of 9 parts done/);
    await screenshot(page, 'backfill-progress');
    await card(page, 'tiktok').getByTestId('job-initial-backfill').and(page.locator('[data-status="succeeded"]')).waitFor({ timeout: 240_000 });
    assert.match(await card(page, 'tiktok').innerText(), /History loaded/);
    sandbox.setFaults('tiktok', {});

    figures.firstChartAfterConnectMs = await firstChart;
    const chart = page.getByTestId('metrics-chart');
    assert.ok(Number(await chart.getAttribute('data-points')) > 60, 'most of the last 90 days have data');
    const rows = page.getByTestId('campaign-table').locator('tbody tr');
    assert.ok((await rows.count()) >= 3, 'one row per campaign');
    assert.match(await page.getByTestId('campaign-table').locator('tfoot').innerText(), /Total/);
    assert.match((await page.getByTestId('total-spend').innerText()) ?? '', /\d/);
    assert.match(await card(page, 'tiktok').getByTestId('last-sync').innerText(), /just now|minute/);
    await screenshot(page, 'metrics');
  });

  it('turns automation on for Meta with a daily cadence: the next run shows, and survives a reload', async () => {
    const page = userPage;
    await db.doc(`users/${userUid}/integrations/meta`).set({
      userId: userUid,
      providerId: 'meta',
      status: 'connected',
      accountId: '1234567890',
      accountName: 'Meta demo account',
      timezone: 'UTC',
      loginCustomerId: null,
      // Three days keep Meta's syncs small: with its breakdowns a day is over 150 documents.
      automation: { enabled: false, cadence: 'weekly', lookbackDays: 3 },
      nextRunAt: null,
      lastSyncedAt: null,
      lastSyncStatus: null,
      lastRequestedAt: null,
      lastError: null,
    });
    await db.doc(`providerCredentials/${userUid}__meta`).set({ ...sandbox.issueCredentials('meta', 5_184_000), refreshToken: null });
    const meta = card(page, 'meta');
    const toggle = meta.getByRole('switch', { name: 'Enable automatic sync' });
    await toggle.waitFor();
    assert.equal(await toggle.getAttribute('aria-checked'), 'false');
    assert.match(await meta.getByTestId('next-run').innerText(), /Automatic sync is off/);

    await toggle.click();
    await meta.locator('[role="switch"][aria-checked="true"]').waitFor();
    await meta.getByLabel('Cadence').selectOption('daily');
    const midnight = nextRunAfter('daily', new Date());
    const expected = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(midnight);
    await meta.getByTestId('next-run').getByText(expected).waitFor();
    // The card shows the change at once (the SDK applies it locally); wait for the server to have it.
    const stored = await docWhen(`users/${userUid}/integrations/meta`, (d) => d.automation?.cadence === 'daily');
    assert.deepEqual(stored.automation, { enabled: true, cadence: 'daily', lookbackDays: 3 });
    assert.equal((stored.nextRunAt as Timestamp).toMillis(), midnight.getTime());

    await page.reload();
    await card(page, 'meta').getByRole('switch', { name: 'Enable automatic sync' }).and(page.locator('[aria-checked="true"]')).waitFor();
    assert.equal(await card(page, 'meta').getByLabel('Cadence').inputValue(), 'daily');
    assert.match(await card(page, 'meta').getByTestId('next-run').innerText(), new RegExp(`Next run: ${expected}`));

    // Meta's daily budget is down to its reserve: the card says so, live, and stops saying so when the plan ends.
    const now = Date.now();
    await db.doc('platformBudgets/meta').set({
      providerId: 'meta',
      day: new Date(now).toISOString().slice(0, 10),
      budget: 1000,
      reserve: 100,
      spent: 899,
      callsPerSync: 3,
      demand: 4000,
      stretchedTo: 'daily',
      hourAllowance: 0,
      hourStart: Timestamp.fromMillis(Math.floor(now / 3_600_000) * 3_600_000),
      reserveReached: true,
      planAt: Timestamp.fromMillis(now),
    });
    const notice = card(page, 'meta').getByTestId('budget-notice');
    await notice.waitFor();
    assert.equal(
      await notice.innerText(),
      "The Ads Hub's daily request limit at Meta Ads is nearly used up: scheduled syncs wait until midnight UTC, when it starts again. Sync now still works.",
    );
    assert.equal(await card(page, 'tiktok').getByTestId('budget-notice').count(), 0, 'only the platform whose budget is short');
    await db.doc('platformBudgets/meta').delete();
    await notice.waitFor({ state: 'detached' });
  });

  it('Sync now: the job appears, runs and succeeds; last sync time and the chart update', async () => {
    const page = userPage;
    await page.getByRole('tab', { name: 'TikTok Ads' }).click();
    const spendBefore = await page.getByTestId('total-spend').innerText();
    // Days the last sync had not brought in yet (the lookback window refetches them): the page
    // read afresh shows less spend.
    const since = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    const stored = await Promise.all(['metricMonths', 'metricTotals'].map((c) => db.collection(`users/${userUid}/${c}`).where('provider', '==', 'tiktok').get()));
    const recent = stored.flatMap((snap) => snap.docs.flatMap((d) => Object.keys((d.get('days') ?? {}) as object).filter((date) => date >= since).map((date) => ({ ref: d.ref, date }))));
    assert.ok(recent.length > 0);
    await Promise.all(recent.map(({ ref, date }) => ref.update(new FieldPath('days', date), FieldValue.delete())));
    await page.reload();
    await page.getByRole('tab', { name: 'TikTok Ads' }).click();
    await page.getByTestId('total-spend').waitFor();
    assert.notEqual(await page.getByTestId('total-spend').innerText(), spendBefore);
    const lastSyncBefore = (await db.doc(`users/${userUid}/integrations/tiktok`).get()).get('lastSyncedAt') as Timestamp;

    // Each TikTok request takes 3 s, so the running state lasts long enough to be seen.
    sandbox.setFaults('tiktok', { latencyMs: 3000 });
    const clickedAt = Date.now();
    await card(page, 'tiktok').getByRole('button', { name: 'Sync TikTok Ads now' }).click();
    await card(page, 'tiktok').locator('[data-testid="job-manual-sync"][data-status="running"]').waitFor();
    figures.syncNowClickToRunningMs = Date.now() - clickedAt;
    await screenshot(page, 'running-sync');
    // A second click while it runs shows the same job, not another.
    await card(page, 'tiktok').getByRole('button', { name: 'Sync TikTok Ads now' }).click();
    const seen = await jobStatuses(page, 'tiktok', 'manual-sync', 'succeeded');
    sandbox.setFaults('tiktok', {});
    assert.deepEqual(seen.slice(-2), ['running', 'succeeded']);
    assert.equal(await card(page, 'tiktok').getByTestId('job-manual-sync').count(), 1);
    const manualJobs = await db.collection('syncJobs').where('userId', '==', userUid).where('createdAt', '>=', Timestamp.fromMillis(clickedAt - 1000)).get();
    assert.deepEqual(manualJobs.docs.map((d) => d.get('jobType')), ['manual-sync'], 'the second click found the running job');

    const lastSyncAfter = (await db.doc(`users/${userUid}/integrations/tiktok`).get()).get('lastSyncedAt') as Timestamp;
    assert.ok(lastSyncAfter.toMillis() > lastSyncBefore.toMillis());
    assert.match(await card(page, 'tiktok').getByTestId('last-sync').innerText(), /just now/);
    await page.waitForFunction((before) => document.querySelector('[data-testid="total-spend"]')?.textContent === before, spendBefore);
  });

  it('a sync waiting for a rate limit says until when, in a time that does not go stale; Sync now starts it', async () => {
    const page = userPage;
    const resumeAt = new Date(Date.now() + 5 * 3_600_000);
    const { jobId } = await enqueueJob(db, { userId: userUid, providerId: 'tiktok', jobType: 'scheduled-sync', runAfter: resumeAt });
    await db.doc(`syncJobs/${jobId}`).update({ lastError: 'RateLimitJobError: TikTok Ads rate limit reached; retry in 5 h.' });
    const job = card(page, 'tiktok').getByTestId('job-scheduled-sync');
    await job.getByText('Sync waiting until').waitFor();
    assert.equal(await job.getByTestId('job-waiting-reason').innerText(), 'TikTok Ads rate limit reached.');
    assert.doesNotMatch(await job.innerText(), /retry in/);

    await card(page, 'tiktok').getByRole('button', { name: 'Sync TikTok Ads now' }).click();
    await card(page, 'tiktok').locator('[data-testid="job-scheduled-sync"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
    const done = (await db.doc(`syncJobs/${jobId}`).get()).data()!;
    assert.deepEqual([done.status, done.priority], ['succeeded', 10]);
  });

  it('the sandbox revokes the grant: the card says to reconnect, in words; reconnecting fixes it', async () => {
    const page = userPage;
    sandbox.revokeGrants('tiktok');
    await card(page, 'tiktok').getByRole('button', { name: 'Sync TikTok Ads now' }).click();
    const alert = card(page, 'tiktok').getByRole('alert');
    await alert.getByText('Reconnect TikTok Ads to keep syncing').waitFor();
    assert.match(await alert.innerText(), /no longer accepts the Ads Hub's access: it expired or was revoked\. Reconnect to grant access again/);
    assert.equal(await card(page, 'tiktok').getByText('Needs reconnecting').count(), 1);
    await screenshot(page, 'reconnect');

    await connectThroughSandbox(page, 'tiktok', 'TikTok Ads', 'Reconnect');
    await page.getByText('TikTok Ads is reconnected. A sync is catching up now.').waitFor();
    await card(page, 'tiktok').locator('[data-testid="job-manual-sync"][data-status="succeeded"]').waitFor();
    assert.equal(await card(page, 'tiktok').getByRole('alert').count(), 0);
    assert.equal(await card(page, 'tiktok').getByText('Connected', { exact: true }).count(), 1);
    const integration = (await db.doc(`users/${userUid}/integrations/tiktok`).get()).data()!;
    assert.deepEqual([integration.status, integration.lastSyncStatus, integration.lastError], ['connected', 'succeeded', null]);
  });

  it('admin: a failed job appears, retry succeeds once the fault is lifted; cancel stops a running backfill; the events chart shows the runs', async () => {
    // A sync that the platform refuses as malformed fails for good (no retries).
    sandbox.setFaults('meta', { invalidRequests: 1000 });
    await card(userPage, 'meta').getByRole('button', { name: 'Sync Meta Ads now' }).click();
    await card(userPage, 'meta').locator('[data-testid="job-manual-sync"][data-status="failed"]').waitFor();

    const { page } = await newPage(browser);
    await signIn(page, ADMIN, PASSWORD);
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Admin', level: 1 }).waitFor();
    await page.getByRole('combobox', { name: 'Status' }).selectOption('failed');
    const failedRow = page.locator('[data-testid="jobs-table"] tr[data-status="failed"][data-type="manual-sync"]').first();
    await failedRow.waitFor();
    assert.match(await failedRow.innerText(), /Meta Ads[\s\S]*Sync now[\s\S]*Failed[\s\S]*Meta Ads rejected the request/);
    const jobId = (await failedRow.getAttribute('data-job-id'))!;
    const failedJobs = (await db.collection('syncJobs').where('status', '==', 'failed').count().get()).data().count;
    await page.getByTestId('count-failed').getByText(String(failedJobs), { exact: true }).waitFor();

    sandbox.setFaults('meta', {});
    await page.getByRole('combobox', { name: 'Status' }).selectOption('');
    await page.getByRole('button', { name: `Retry job ${jobId}` }).click();
    await page.locator(`tr[data-job-id="${jobId}"][data-status="succeeded"]`).waitFor();
    await card(userPage, 'meta').locator('[data-testid="job-manual-sync"][data-status="succeeded"]').waitFor();
    assert.equal((await db.doc(`syncJobs/${jobId}`).get()).get('status'), 'succeeded');

    // A long backfill: LinkedIn answers slowly.
    sandbox.setFaults('linkedin', { latencyMs: 1500 });
    await connectThroughSandbox(userPage, 'linkedin', 'LinkedIn Ads');
    const backfillRow = page.locator('[data-testid="jobs-table"] tr[data-type="initial-backfill"][data-status="running"]').first();
    await backfillRow.waitFor();
    const backfillId = (await backfillRow.getAttribute('data-job-id'))!;
    await screenshot(page, 'admin-queue');
    const cancelledAt = Timestamp.now();
    await page.getByRole('button', { name: `Cancel job ${backfillId}` }).click();
    await page.locator(`tr[data-job-id="${backfillId}"][data-status="cancelled"]`).waitFor();
    const atCancel = (await db.doc(`syncJobs/${backfillId}`).get()).data()!;

    // The worker learns of the cancel at its next fenced write, then its run ends: wait for that run's event.
    for (;;) {
      const runs = await db.collection('admin/scheduler/events').where('at', '>=', cancelledAt).get();
      if (runs.docs.some((e) => e.get('operation') === 'start_now' && e.get('counts.processed') >= 1)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    sandbox.setFaults('linkedin', {});
    const afterRun = (await db.doc(`syncJobs/${backfillId}`).get()).data()!;
    assert.equal(afterRun.status, 'cancelled');
    assert.deepEqual(afterRun.progress, atCancel.progress, 'no progress was written after the cancel');
    const linkedin = (await db.doc(`users/${userUid}/integrations/linkedin`).get()).data()!;
    assert.equal(linkedin.status, 'connected');
    assert.doesNotMatch(String(linkedin.lastError), /lease|cancel/i, 'a cancel is not a failure of the integration');
    await card(userPage, 'linkedin').locator('[data-testid="job-initial-backfill"][data-status="cancelled"]').waitFor();

    const chart = page.getByTestId('events-chart');
    await page.locator('[data-testid="events-chart"] .recharts-bar-rectangle').first().waitFor();
    assert.ok(Number(await chart.getAttribute('data-runs')) >= 5, 'the runs of this test are on the chart');
    assert.match(await page.getByRole('list', { name: 'Recent runs, newest first' }).innerText(), /process\/start_now/);
    await screenshot(page, 'admin');

    // Alert thresholds: an override for Meta's failures, saved through the admin endpoint, there after a reload.
    const alerts = page.getByTestId('alert-settings');
    await alerts.getByRole('button', { name: 'Add override' }).click();
    const override = alerts.getByTestId('alert-override-0');
    await override.getByRole('combobox', { name: 'Platform' }).selectOption('meta');
    await override.getByRole('spinbutton', { name: 'Alert at' }).fill('5');
    await alerts.getByRole('spinbutton', { name: 'Minutes between alerts of one kind' }).fill('30');
    await alerts.getByRole('button', { name: 'Save alert settings' }).click();
    await alerts.getByText('Saved: the next runs judge alerts with these settings.').waitFor();
    const stored = (await db.doc('admin/alertSettings').get()).data()!;
    assert.deepEqual([stored.throttleMinutes, stored.backlogMinutes, stored.overrides, stored.updatedBy], [
      30,
      null,
      [{ kind: 'run-failures', providerId: 'meta', threshold: 5, muted: false }],
      ADMIN,
    ]);
    await page.reload();
    const reloaded = page.getByTestId('alert-settings').getByTestId('alert-override-0');
    await reloaded.waitFor();
    assert.equal(await reloaded.getByRole('combobox', { name: 'Platform' }).inputValue(), 'meta');
    assert.equal(await reloaded.getByRole('spinbutton', { name: 'Alert at' }).inputValue(), '5');
    await page.context().close();
  });

  it('a non-admin cannot open the admin view, and the admin endpoints refuse them', async () => {
    const page = userPage;
    assert.equal(await page.getByRole('link', { name: 'Admin' }).count(), 0);
    await page.goto(`${ORIGIN}/admin`);
    await page.getByRole('alert').getByText('The admin view is for Ads Hub admins').waitFor();
    assert.equal(await page.getByTestId('jobs-table').count(), 0);
    // The same calls the page would make, with the user's own ID token from the Auth emulator.
    const signedIn = await fetch(`http://${AUTH_HOST}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=any`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: USER, password: PASSWORD, returnSecureToken: true }),
    });
    const { idToken } = (await signedIn.json()) as { idToken: string };
    const post = (path: string, token?: string) =>
      fetch(`${ORIGIN}/api/admin/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(path === 'schedule' ? { allUsers: true } : { jobId: 'any-job' }),
      }).then((r) => r.status);
    const statuses = {
      retryAsUser: await post('retry', idToken),
      cancelAsUser: await post('cancel', idToken),
      scheduleAsUser: await post('schedule', idToken),
      retrySignedOut: await post('retry'),
    };
    assert.deepEqual(statuses, { retryAsUser: 403, cancelAsUser: 403, scheduleAsUser: 403, retrySignedOut: 401 });
  });

  it('works at 375 px and on a desktop: nothing cut off, every control labelled and reachable by keyboard', async () => {
    for (const viewport of [PHONE, DESKTOP]) {
      const { page, context } = await newPage(browser, viewport);
      await signIn(page, USER, PASSWORD);
      await page.locator('[data-testid="metrics-panel"]:is([data-state="data"], [data-state="empty"])').waitFor();
      assert.deepEqual(await overflowingElements(page), [], `home at ${viewport.width} px`);
      assert.deepEqual(await unlabelledControls(page), [], `home at ${viewport.width} px`);
      assert.deepEqual(await unreachableByKeyboard(page), [], `home at ${viewport.width} px`);
      if (viewport === PHONE) await screenshot(page, 'user-cards-mobile');
      await context.close();

      const admin = await newPage(browser, viewport);
      await signIn(admin.page, ADMIN, PASSWORD);
      await admin.page.getByRole('link', { name: 'Admin' }).click();
      await admin.page.getByTestId('jobs-table').waitFor();
      await admin.page.locator('[data-testid="events-chart"] .recharts-bar-rectangle').first().waitFor();
      await admin.page.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-testid="count-failed"]')?.textContent ?? ''));
      assert.deepEqual(await overflowingElements(admin.page), [], `admin at ${viewport.width} px`);
      assert.deepEqual(await unlabelledControls(admin.page), [], `admin at ${viewport.width} px`);
      assert.deepEqual(await unreachableByKeyboard(admin.page), [], `admin at ${viewport.width} px`);
      if (viewport === PHONE) await screenshot(admin.page, 'admin-mobile');
      await admin.context.close();
    }
  });

  it("npm start's demo user shows the product: one platform synced, one asking to reconnect, one not connected, one loading history", async () => {
    sandbox.setFaults('tiktok', { latencyMs: 900 });
    await seedDemo(PROJECT, sandbox, 20);
    const { page, context } = await newPage(browser);
    await signIn(page, DEMO_USER_EMAIL, DEMO_PASSWORD);
    await card(page, 'google').getByText('Connected', { exact: true }).waitFor();
    assert.match(await card(page, 'google').innerText(), /Northwind Coffee · 123-456-7890/);
    await card(page, 'meta').getByRole('alert').getByText('Reconnect Meta Ads to keep syncing').waitFor();
    await card(page, 'linkedin').getByRole('button', { name: 'Connect LinkedIn Ads' }).waitFor();
    await card(page, 'tiktok').getByRole('progressbar', { name: 'History backfill progress' }).waitFor();
    await page.locator('[data-testid="metrics-chart"] .recharts-area-curve').waitFor();
    assert.ok(Number(await page.getByTestId('metrics-chart').getAttribute('data-points')) > 45, 'Google: months of data');
    await screenshot(page, 'user-cards');
    sandbox.setFaults('tiktok', {});
    await context.close();
  });
});
