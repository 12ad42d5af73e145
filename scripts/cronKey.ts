/**
 * The cron keys in Secret Manager, never shown on the way.
 *
 *   npm run secret:generate -- [--set <secret>]... [--project ID] [--force]
 *     A new key. With --set it goes to `firebase functions:secrets:set` on stdin, the same
 *     key to each secret named; without, it is printed once (no newline when piped).
 *   npm run secret:promote -- [--project ID] [--force]
 *     Ends a rotation: INTEGRATIONS_CRON_SECRET takes the value of INTEGRATIONS_CRON_SECRET_NEXT.
 *
 * --force lets firebase-tools move the deployed functions to the new version at once (and
 * destroy the version they used); without it, `firebase deploy --only functions` does.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { CRON_KEY_SECRETS } from '../functions/src/config/secrets.js';
import { FIREBASE_BIN, ROOT, exitCodeOf } from './emulators.js';
import { UsageError, isCronKeySecret, readCronKey, resolveProjectId, type CronKeySecret } from './google.js';

/** 43 characters from [A-Za-z0-9_-]: 256 bits, and valid in an HTTP header as it is. */
export function generateCronKey(): string {
  return randomBytes(32).toString('base64url');
}

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

function firebaseSecretsSet(name: CronKeySecret, value: string, options: SetOptions): Promise<number> {
  const child = spawn(FIREBASE_BIN, secretsSetArgs(name, options), { cwd: ROOT, stdio: ['pipe', 'inherit', 'inherit'] });
  child.stdin?.end(value);
  return exitCodeOf(child);
}

export interface CronKeyCliDeps {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** For the Secret Manager client that promote reads with; tests point it at a local server. */
  clientOptions?: ConstructorParameters<typeof SecretManagerServiceClient>[0];
  /** Stores a new secret version; firebase-tools by default. */
  setSecret?: (name: CronKeySecret, value: string, options: SetOptions) => Promise<number>;
}

async function promote(projectId: string, force: boolean, deps: CronKeyCliDeps, out: (line: string) => void): Promise<number> {
  const client = new SecretManagerServiceClient(deps.clientOptions);
  try {
    const next = await readCronKey(client, projectId, 'INTEGRATIONS_CRON_SECRET_NEXT');
    // A current key that is missing or invalid is simply replaced.
    const current = await readCronKey(client, projectId, 'INTEGRATIONS_CRON_SECRET').catch(() => null);
    if (current === next) {
      out('INTEGRATIONS_CRON_SECRET already holds the next key: nothing to promote.');
      return 0;
    }
    return await (deps.setSecret ?? firebaseSecretsSet)('INTEGRATIONS_CRON_SECRET', next, { project: projectId, force });
  } finally {
    await Promise.allSettled([client.close()]);
  }
}

export async function runCronKeyCli(argv: readonly string[], deps: CronKeyCliDeps = {}): Promise<number> {
  const out = (line: string) => (deps.stdout ?? ((text) => process.stdout.write(text)))(`${line}\n`);
  const err = (line: string) => (deps.stderr ?? ((text) => process.stderr.write(text)))(`${line}\n`);
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        allowPositionals: true,
        options: { set: { type: 'string', multiple: true, default: [] }, project: { type: 'string' }, force: { type: 'boolean', default: false } },
      });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const { values, positionals } = parsed;
    const command = positionals[0] ?? 'generate';
    if (command === 'promote') return await promote(resolveProjectId(values.project, deps.env ?? process.env, deps.cwd ?? process.cwd()), values.force, deps, out);
    if (command !== 'generate' || positionals.length > 1) throw new UsageError(`unknown command "${positionals.join(' ')}": use generate or promote`);

    const names = values.set;
    const unknown = names.filter((name) => !isCronKeySecret(name));
    if (unknown.length > 0) throw new UsageError(`--set must name a cron key secret (${CRON_KEY_SECRETS.join(' or ')}), not ${unknown.join(', ')}`);
    const key = generateCronKey();
    if (names.length === 0) {
      if (process.stdout.isTTY && !deps.stdout) {
        out(key);
        err('Shown once and stored nowhere. `--set <secret name>` hands a key to Secret Manager without showing it.');
      } else {
        (deps.stdout ?? ((text) => process.stdout.write(text)))(key);
      }
      return 0;
    }
    for (const name of names.filter(isCronKeySecret)) {
      const code = await (deps.setSecret ?? firebaseSecretsSet)(name, key, { project: values.project, force: values.force });
      if (code !== 0) return code;
    }
    return 0;
  } catch (error) {
    err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await runCronKeyCli(process.argv.slice(2));
