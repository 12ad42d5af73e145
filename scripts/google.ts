/**
 * What the operations scripts (`npm run scheduler`, `npm run secret:*`) share when they talk
 * to a real Google Cloud project: which project, the cron keys in Secret Manager, and errors
 * that say what to do.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { cronKeySchema } from '../functions/src/config/index.js';
import { CRON_KEY_SECRETS } from '../functions/src/config/secrets.js';

/** A mistake in the command line: exit code 2. */
export class UsageError extends Error {}
/** Anything else that stops a command, already explained: exit code 1. */
export class CliError extends Error {}

export type CronKeySecret = (typeof CRON_KEY_SECRETS)[number];
export const isCronKeySecret = (name: string): name is CronKeySecret => (CRON_KEY_SECRETS as readonly string[]).includes(name);

/** `--project` (an id or a .firebaserc alias), else $GOOGLE_CLOUD_PROJECT, else the .firebaserc default. */
export function resolveProjectId(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const rcPath = join(cwd, '.firebaserc');
  const aliases = existsSync(rcPath) ? ((JSON.parse(readFileSync(rcPath, 'utf8')) as { projects?: Record<string, string> }).projects ?? {}) : {};
  const named = flag ?? env.GOOGLE_CLOUD_PROJECT ?? aliases.default;
  if (!named) throw new UsageError('no project: pass --project <id> (or set GOOGLE_CLOUD_PROJECT, or a default with `firebase use`)');
  const projectId = aliases[named] ?? named;
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(projectId)) throw new UsageError(`--project "${projectId}" is not a project id`);
  if (projectId.startsWith('demo-')) throw new UsageError(`--project ${projectId} is an emulator-only demo project; this needs a real one`);
  return projectId;
}

/** The options every operations command takes to find the deployed functions. */
const TARGET_OPTIONS = { project: { type: 'string' }, region: { type: 'string' }, 'base-url': { type: 'string' } } as const;

/** parseArgs with the target options added and its errors as usage errors. */
export function parseCommandLine<O extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, options: { ...TARGET_OPTIONS, ...options } });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** `--region`, checked to look like one (us-central1); absent stays undefined. */
export function checkedRegion(region: string | undefined): string | undefined {
  if (region !== undefined && !/^[a-z]+-[a-z]+[0-9]+$/.test(region)) throw new UsageError(`--region "${region}" is not a region such as us-central1`);
  return region;
}

const GRPC = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, FAILED_PRECONDITION: 9, UNAUTHENTICATED: 16 };
export type GrpcHints = Partial<Record<keyof typeof GRPC, string>>;
const CREDENTIALS_HINT = 'Run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file';

/** A Google API error, or google-auth-library's, as one line that says what to do. */
export function explain(error: unknown, doing: string, hints: GrpcHints): Error {
  if (error instanceof UsageError || error instanceof CliError) return error;
  // gRPC messages start with "<code> <NAME>: ", REST ones do not; both end up the same here.
  const message = (error instanceof Error ? error.message : String(error))
    .split('\n')[0]!
    .replace(/^\d+ [A-Z_]+: /, '')
    .replace(/\.+$/, '');
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'number') {
    // google-auth-library fails before any request: no status code, only a message.
    if (/credential|does not exist|not a file|invalid_grant|refresh|metadata|ENOENT/i.test(message)) {
      return new CliError(`${doing}: no usable Google credentials (${message}). ${CREDENTIALS_HINT}.`);
    }
    return new CliError(`${doing}: ${message}`);
  }
  if (code === GRPC.UNAUTHENTICATED) return new CliError(`${doing}: the credentials were refused (${message}). ${CREDENTIALS_HINT}.`);
  const name = (Object.keys(GRPC) as (keyof typeof GRPC)[]).find((key) => GRPC[key] === code);
  const hint = name ? hints[name] : undefined;
  return new CliError(`${doing}: ${name ?? `error ${code}`}: ${message}.${hint ? ` ${hint}.` : ''}`);
}

/** The latest version of a cron key secret, held to the functions' own rule for keys. */
export async function readCronKey(client: SecretManagerServiceClient, projectId: string, secret: CronKeySecret): Promise<string> {
  const doing = `reading secret ${secret}`;
  const create = `npm run secret:generate -- --set ${secret} --project ${projectId}`;
  let version;
  try {
    [version] = await client.accessSecretVersion({ name: `projects/${projectId}/secrets/${secret}/versions/latest` });
  } catch (error) {
    throw explain(error, doing, {
      NOT_FOUND: `Create it with \`${create}\``,
      FAILED_PRECONDITION: `Its latest version is disabled or destroyed; add one with \`${create}\``,
      PERMISSION_DENIED: 'Whoever runs this needs roles/secretmanager.secretAccessor on it (and the Secret Manager API enabled)',
    });
  }
  const data = version.payload?.data;
  const valid = cronKeySchema.safeParse(typeof data === 'string' ? data : data ? Buffer.from(data).toString('utf8') : '');
  if (!valid.success) {
    throw new CliError(`${doing}: its value ${valid.error.issues[0]?.message ?? 'is not valid'}, so the functions would refuse it. Set a new one with \`${create}\``);
  }
  return valid.data;
}

const versionOf = (name: string | null | undefined) => Number(/\/versions\/(\d+)$/.exec(name ?? '')?.[1] ?? NaN);

async function accessKey(client: SecretManagerServiceClient, name: string): Promise<{ key: string | null; version: number } | null> {
  try {
    const [version] = await client.accessSecretVersion({ name });
    const data = version.payload?.data;
    const valid = cronKeySchema.safeParse(typeof data === 'string' ? data : data ? Buffer.from(data).toString('utf8') : '');
    return { key: valid.success ? valid.data : null, version: versionOf(version.name) };
  } catch (error) {
    // No such secret or version, or a version disabled or destroyed: nothing the functions use.
    if ([GRPC.NOT_FOUND, GRPC.FAILED_PRECONDITION].includes((error as { code?: number } | null)?.code ?? -1)) return null;
    throw explain(error, `reading ${name.replace(/^projects\/[^/]+\/secrets\//, 'secret ')}`, {
      PERMISSION_DENIED: 'Whoever runs this needs roles/secretmanager.secretAccessor on it (and the Secret Manager API enabled)',
    });
  }
}

/** The latest version of a cron key secret when it holds a key the functions accept; null when missing, blank or refused. */
export async function readCronKeyIfValid(client: SecretManagerServiceClient, projectId: string, secret: CronKeySecret): Promise<string | null> {
  return (await accessKey(client, `projects/${projectId}/secrets/${secret}/versions/latest`))?.key ?? null;
}

/** The version before the latest, when there is one the functions would accept. */
export async function readPreviousCronKey(client: SecretManagerServiceClient, projectId: string, secret: CronKeySecret): Promise<string | null> {
  const latest = await accessKey(client, `projects/${projectId}/secrets/${secret}/versions/latest`);
  if (!latest || !(latest.version > 1)) return null;
  return (await accessKey(client, `projects/${projectId}/secrets/${secret}/versions/${latest.version - 1}`))?.key ?? null;
}
