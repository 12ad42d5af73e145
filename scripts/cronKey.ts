/**
 * The cron keys in Secret Manager, never printed on the way.
 *
 *   npm run secret:generate -- [--set <secret>]... --project ID [--region R] [--force] [--replace-current]
 *     A new key. With --set it goes to `firebase functions:secrets:set` on stdin, the same
 *     key to each secret named; without, it is printed once (no newline when piped).
 *   npm run secret:promote -- --project ID --region R [--base-url URL] [--force]
 *     Ends a rotation: INTEGRATIONS_CRON_SECRET takes the value of INTEGRATIONS_CRON_SECRET_NEXT,
 *     once the Cloud Scheduler jobs send it and the deployed functions accept it.
 *
 * --force lets firebase-tools move the deployed functions to the new version at once (and
 * destroy the version they used); without it, `firebase deploy --only functions` does.
 * Each step that could cut off the scheduled calls is checked first: see docs/operations.md.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CloudSchedulerClient } from '@google-cloud/scheduler';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { CRON_KEY_SECRETS } from '../functions/src/config/secrets.js';
import { FIREBASE_BIN, exitCodeOf } from './emulators.js';
import { generateCronKey } from './generateKey.js';
import { CliError, UsageError, checkedRegion, isCronKeySecret, parseCommandLine, readCronKey, readCronKeyIfValid, readPreviousCronKey, resolveProjectId, type CronKeySecret } from './google.js';
import { keyFingerprint } from './scheduler/desired.js';
import { checkCronKey, functionsBaseUrl } from './scheduler/functions.js';
import { listOwnedJobKeys } from './scheduler/jobs.js';

export { generateCronKey };

interface SetOptions {
  project?: string;
  force: boolean;
}

/** The firebase-tools command that stores a value read from stdin as a new version of `name`. */
export function secretsSetArgs(name: CronKeySecret, options: Partial<SetOptions>): string[] {
  return [
    'functions:secrets:set',
    name,
    '--data-file=-',
    ...(options.project ? ['--project', options.project] : []),
    ...(options.force ? ['--force'] : []),
  ];
}

/**
 * Runs firebase-tools' `functions:secrets:set` with the value on stdin, in a private
 * temporary directory that is removed afterwards: firebase-tools writes its debug log
 * (request bodies included, so the secret's payload) to `firebase-debug.log` in its working
 * directory, and keeps it after an error or an interrupt.
 */
export async function firebaseSecretsSet(name: CronKeySecret, value: string, options: SetOptions, binary = FIREBASE_BIN): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ads-hub-secret-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const interrupted = () => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const { DEBUG: _debug, ...env } = process.env;
    const child = spawn(binary, secretsSetArgs(name, options), { cwd: dir, env, stdio: ['pipe', 'inherit', 'inherit'] });
    child.stdin?.end(value);
    return await exitCodeOf(child);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    cleanup();
  }
}

export interface CronKeyCliDeps {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** For the Google clients; tests point them at a local server. */
  clientOptions?: ConstructorParameters<typeof SecretManagerServiceClient>[0];
  /** Stores a new secret version; firebase-tools by default. */
  setSecret?: (name: CronKeySecret, value: string, options: SetOptions) => Promise<number>;
  /** For the checks against the deployed functions; tests route them to a local server. */
  fetch?: typeof fetch;
}

interface Target {
  projectId: string;
  location: string | null;
  baseUrl: string | null;
}

const SCHEDULER_APPLY_NEXT = (t: Target) =>
  `npm run scheduler -- apply --project ${t.projectId} --region ${t.location ?? '<region>'} --key-secret INTEGRATIONS_CRON_SECRET_NEXT`;

async function withClients<T>(deps: CronKeyCliDeps, work: (secrets: SecretManagerServiceClient, scheduler: CloudSchedulerClient) => Promise<T>): Promise<T> {
  const secrets = new SecretManagerServiceClient(deps.clientOptions);
  const scheduler = new CloudSchedulerClient(deps.clientOptions);
  try {
    return await work(secrets, scheduler);
  } finally {
    // A client that never connected (no credentials) rejects its close with the same error.
    await Promise.allSettled([secrets.close(), scheduler.close()]);
  }
}

/**
 * Refuses a new key where it would cut off the scheduled calls:
 * - over an existing current key (the functions would stop accepting what the jobs send),
 *   unless --replace-current (a leaked key: the jobs then need `npm run scheduler -- apply`);
 * - over a next key that differs from the current one, unless the jobs are shown to still send
 *   the current key: during a rotation they may send the next one.
 */
async function checkSafeToSet(names: readonly CronKeySecret[], target: Target, replaceCurrent: boolean, deps: CronKeyCliDeps): Promise<void> {
  await withClients(deps, async (secrets, scheduler) => {
    const current = await readCronKeyIfValid(secrets, target.projectId, 'INTEGRATIONS_CRON_SECRET');
    if (names.includes('INTEGRATIONS_CRON_SECRET')) {
      if (current !== null && !replaceCurrent) {
        throw new CliError(
          'INTEGRATIONS_CRON_SECRET already holds a key the functions accept and the Cloud Scheduler jobs may send: replacing it would fail ' +
            'every scheduled call with 401. Rotate it instead (docs/operations.md, "Rotate the cron key"), or pass --replace-current for a ' +
            'leaked key and then run `npm run scheduler -- apply`',
        );
      }
      return;
    }
    const next = await readCronKeyIfValid(secrets, target.projectId, 'INTEGRATIONS_CRON_SECRET_NEXT');
    if (next === null || next === current) return;
    const unfinished = `INTEGRATIONS_CRON_SECRET_NEXT holds a key other than the current one: a rotation is under way`;
    if (!target.location || current === null) {
      throw new CliError(
        `${unfinished}, and the Cloud Scheduler jobs may already send that key. Finish it with \`npm run secret:promote -- --project ${target.projectId} --region <region>\`, ` +
          'or pass --region so this can check that the jobs still send the current key',
      );
    }
    const jobs = await listOwnedJobKeys(scheduler, target.projectId, target.location);
    const moved = jobs.filter((job) => job.fingerprint !== keyFingerprint(current));
    if (moved.length > 0) {
      throw new CliError(
        `${unfinished}, and ${moved.map((job) => job.id).join(', ')} already send(s) another key than the current one: a new next key would ` +
          `fail their calls with 401. Finish the rotation first: \`npm run secret:promote -- --project ${target.projectId} --region ${target.location}\``,
      );
    }
  });
}

async function promote(target: Target, force: boolean, deps: CronKeyCliDeps, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const { projectId } = target;
  const location = target.location!;
  const baseUrl = target.baseUrl!;
  const redeploy = `\`npx firebase deploy --only functions --project ${projectId}\``;
  const setSecret = deps.setSecret ?? ((name, value, options) => firebaseSecretsSet(name, value, options));
  return withClients(deps, async (secrets, scheduler) => {
    const next = await readCronKey(secrets, projectId, 'INTEGRATIONS_CRON_SECRET_NEXT');
    const current = await readCronKeyIfValid(secrets, projectId, 'INTEGRATIONS_CRON_SECRET');
    if (current === next) {
      // Promoted already; the functions may still run with the version before it.
      const previous = await readPreviousCronKey(secrets, projectId, 'INTEGRATIONS_CRON_SECRET');
      if (previous !== null && previous !== next && (await checkCronKey(baseUrl, previous, deps.fetch)) === 'accepted') {
        err(`INTEGRATIONS_CRON_SECRET already holds the next key, but the functions at ${baseUrl} still accept the previous one: they run with the secret version of their last deploy. Deploy them: ${redeploy}.`);
        return 1;
      }
      out('INTEGRATIONS_CRON_SECRET already holds the next key, and the functions refuse the previous one: nothing to promote.');
      return 0;
    }
    const jobs = await listOwnedJobKeys(scheduler, projectId, location);
    const behind = jobs.filter((job) => job.fingerprint !== keyFingerprint(next));
    if (behind.length > 0) {
      throw new CliError(
        `refusing to promote: ${behind.map((job) => job.id).join(', ')} still send(s) another key than the next one, and would be refused (401) ` +
          `once it is the only key. Move the jobs first: \`${SCHEDULER_APPLY_NEXT(target)}\``,
      );
    }
    const check = await checkCronKey(baseUrl, next, deps.fetch);
    if (check === 'refused') {
      throw new CliError(`refusing to promote: the functions at ${baseUrl} refuse the next key (401). Deploy them with it first: ${redeploy}`);
    }
    if (check !== 'accepted') throw new CliError(`refusing to promote: ${check.problem}`);

    const code = await setSecret('INTEGRATIONS_CRON_SECRET', next, { project: projectId, force });
    if (code !== 0) return code;
    if (current !== null && (await checkCronKey(baseUrl, current, deps.fetch)) !== 'refused') {
      err(
        `INTEGRATIONS_CRON_SECRET now holds the next key, but the functions at ${baseUrl} still accept the old one: they run with the secret ` +
          `version of their last deploy. Deploy them (${redeploy}), then run this again to check.`,
      );
      return 1;
    }
    out(`Promoted: INTEGRATIONS_CRON_SECRET holds the next key, the jobs send it, and the functions at ${baseUrl} refuse the old one.`);
    return 0;
  });
}

export async function runCronKeyCli(argv: readonly string[], deps: CronKeyCliDeps = {}): Promise<number> {
  const out = (line: string) => (deps.stdout ?? ((text) => process.stdout.write(text)))(`${line}\n`);
  const err = (line: string) => (deps.stderr ?? ((text) => process.stderr.write(text)))(`${line}\n`);
  try {
    const parsed = parseCommandLine(argv, {
      set: { type: 'string', multiple: true, default: [] },
      force: { type: 'boolean', default: false },
      'replace-current': { type: 'boolean', default: false },
    });
    const { values, positionals } = parsed;
    const command = positionals[0] ?? 'generate';
    if ((command !== 'promote' && command !== 'generate') || positionals.length > 1) {
      throw new UsageError(`unknown command "${positionals.join(' ')}": use generate or promote`);
    }
    const names = values.set;
    if (command === 'generate' && names.length === 0) {
      const key = generateCronKey();
      if (process.stdout.isTTY && !deps.stdout) {
        out(key);
        err('Shown once, here only. `--set <secret name>` hands a key to Secret Manager without printing it.');
      } else {
        (deps.stdout ?? ((text) => process.stdout.write(text)))(key);
      }
      return 0;
    }

    const projectId = resolveProjectId(values.project, deps.env ?? process.env, deps.cwd ?? process.cwd());
    const location = checkedRegion(values.region) ?? null;
    const target: Target = { projectId, location, baseUrl: location ? functionsBaseUrl(values['base-url'], projectId, location) : null };

    if (command === 'promote') {
      if (!location) throw new UsageError('promote needs --region <location>: it checks that the Cloud Scheduler jobs there send the next key and that the functions accept it');
      return await promote(target, values.force, deps, out, err);
    }
    const unknown = names.filter((name) => !isCronKeySecret(name));
    if (unknown.length > 0) throw new UsageError(`--set must name a cron key secret (${CRON_KEY_SECRETS.join(' or ')}), not ${unknown.join(', ')}`);
    const secrets = names.filter(isCronKeySecret);
    await checkSafeToSet(secrets, target, values['replace-current'], deps);
    const key = generateCronKey();
    for (const name of secrets) {
      const code = await (deps.setSecret ?? ((n, v, o) => firebaseSecretsSet(n, v, o)))(name, key, { project: projectId, force: values.force });
      if (code !== 0) return code;
    }
    return 0;
  } catch (error) {
    err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await runCronKeyCli(process.argv.slice(2));
