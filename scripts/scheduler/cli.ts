/**
 * `npm run scheduler -- [plan|apply] --project <id> --region <location> [options]`: makes the
 * Cloud Scheduler jobs of a Firebase project match functions/src/scheduler/schedules.ts.
 * `plan` (the default) only reads; `apply` creates, updates and deletes the jobs this project
 * owns, and a second apply changes nothing. See docs/operations.md.
 */
import { pathToFileURL } from 'node:url';
import { CloudSchedulerClient } from '@google-cloud/scheduler';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { CRON_KEY_SECRETS } from '../../functions/src/config/secrets.js';
import { SCHEDULES } from '../../functions/src/scheduler/schedules.js';
import { checkedRegion, CliError, explain, isCronKeySecret, parseCommandLine, readCronKey, resolveProjectId, UsageError, type CronKeySecret, type GrpcHints } from '../google.js';
import { desiredJobs, keyFingerprint, locationName, schedulerJob, UPDATE_MASK } from './desired.js';
import { checkCronKey, functionsBaseUrl, httpFunctions } from './functions.js';
import { countOf, formatPlan, planJobs, sentCronKey, type JobsPlan } from './plan.js';

const USAGE = `Usage: npm run scheduler -- [plan|apply] --project <id> --region <location> [options]

  plan                 print what apply would create, update, leave or delete (default; changes nothing)
  apply                make it so
  --project <id>       Firebase/GCP project id or .firebaserc alias (default: $GOOGLE_CLOUD_PROJECT, then
                       the default project of .firebaserc)
  --region <location>  Cloud Scheduler location, and the functions' region for their URLs
  --base-url <url>     where the functions answer, if not https://<region>-<project>.cloudfunctions.net
  --key-secret <name>  ${CRON_KEY_SECRETS.join(' or ')} (default ${CRON_KEY_SECRETS[0]}):
                       the Secret Manager secret whose latest version the jobs send as x-cron-key
  --force              rewrite every job even when it looks unchanged (e.g. after headers were edited by hand)`;

type ClientOptions = NonNullable<ConstructorParameters<typeof CloudSchedulerClient>[0]>;

export interface SchedulerCliDeps {
  env?: NodeJS.ProcessEnv;
  /** Where .firebaserc is looked for. */
  cwd?: string;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Passed to both Google clients; tests point them at a local server. */
  clientOptions?: ClientOptions;
  /** For the check that the deployed functions accept the key; tests route it to a local server. */
  fetch?: typeof fetch;
}

interface CliOptions {
  command: 'plan' | 'apply';
  projectId: string;
  location: string;
  functionsBaseUrl: string;
  keySecret: CronKeySecret;
  force: boolean;
}

function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): CliOptions | 'help' {
  const parsed = parseCommandLine(argv, {
    'key-secret': { type: 'string', default: CRON_KEY_SECRETS[0] },
    force: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const command = positionals[0] ?? 'plan';
  if ((command !== 'plan' && command !== 'apply') || positionals.length > 1) throw new UsageError(`unknown command "${positionals.join(' ')}": use plan or apply`);

  const projectId = resolveProjectId(values.project, env, cwd);

  const location = checkedRegion(values.region);
  if (!location) throw new UsageError('no region: pass --region <location>, the region of the functions (us-central1 unless functions/src/index.ts says otherwise)');

  const keySecret = values['key-secret'];
  if (!isCronKeySecret(keySecret)) throw new UsageError(`--key-secret must be ${CRON_KEY_SECRETS.join(' or ')}`);

  return {
    command,
    projectId,
    location,
    functionsBaseUrl: functionsBaseUrl(values['base-url'], projectId, location),
    keySecret,
    force: values.force,
  };
}

const SCHEDULER_HINTS: GrpcHints = {
  PERMISSION_DENIED: 'Whoever runs this needs roles/cloudscheduler.admin, and the Cloud Scheduler API enabled (`gcloud services enable cloudscheduler.googleapis.com`)',
  INVALID_ARGUMENT: 'Check --region: Cloud Scheduler must be available there',
  NOT_FOUND: 'Check --project and --region',
  ALREADY_EXISTS: 'Someone else changed the jobs meanwhile; run plan again',
};

async function applyPlan(client: CloudSchedulerClient, plan: JobsPlan, parent: string, cronKey: string, out: (line: string) => void): Promise<void> {
  for (const step of plan.steps) {
    const doing = `${step.action} ${step.id}`;
    try {
      if (step.action === 'create' && step.desired) await client.createJob({ parent, job: schedulerJob(step.desired, cronKey) });
      else if (step.action === 'update' && step.desired) await client.updateJob({ job: schedulerJob(step.desired, cronKey), updateMask: UPDATE_MASK });
      else if (step.action === 'delete') await client.deleteJob({ name: step.name });
      else continue;
    } catch (error) {
      throw explain(error, doing, SCHEDULER_HINTS);
    }
    out(`  done: ${doing}`);
  }
}

export async function runSchedulerCli(argv: readonly string[], deps: SchedulerCliDeps = {}): Promise<number> {
  // Nothing printed may contain a key (the one sent, or one a listed job carries), not even a service's error quoting a request.
  const keys = new Set<string>();
  const redact = (text: string) => [...keys].reduce((shown, key) => shown.replaceAll(key, '<cron key>'), text);
  const out = (text: string) => (deps.stdout ?? ((t) => process.stdout.write(t)))(`${redact(text)}\n`);
  const err = (text: string) => (deps.stderr ?? ((t) => process.stderr.write(t)))(`${redact(text)}\n`);
  const clients: { close(): Promise<void> }[] = [];
  try {
    const options = parseOptions(argv, deps.env ?? process.env, deps.cwd ?? process.cwd());
    if (options === 'help') {
      out(USAGE);
      return 0;
    }
    const timeouts = Object.fromEntries(Object.entries(httpFunctions()).map(([name, fn]) => [name, fn.timeoutSeconds]));
    const secrets = new SecretManagerServiceClient(deps.clientOptions);
    const scheduler = new CloudSchedulerClient(deps.clientOptions);
    clients.push(secrets, scheduler);

    const cronKey = await readCronKey(secrets, options.projectId, options.keySecret);
    keys.add(cronKey);
    const fingerprint = keyFingerprint(cronKey);
    const desired = desiredJobs(SCHEDULES, options, timeouts, fingerprint);
    const parent = locationName(options);
    let current;
    try {
      [current] = await scheduler.listJobs({ parent });
    } catch (error) {
      throw explain(error, `listing the jobs of ${parent}`, SCHEDULER_HINTS);
    }
    for (const job of current) {
      const sent = sentCronKey(job);
      if (sent) keys.add(sent);
    }
    const plan = planJobs(desired, current, { force: options.force });
    out(formatPlan(plan, { ...options, fingerprint }));
    out('');

    if (options.command === 'plan') {
      out('Dry run: nothing was changed. `npm run scheduler -- apply` with the same options makes it so.');
      return plan.conflicts.length > 0 ? 1 : 0;
    }
    if (plan.conflicts.length > 0) throw new CliError(`refusing to apply: ${plan.conflicts.join(', ')} belong(s) to someone else`);
    const changing = plan.steps.length - countOf(plan, 'unchanged');
    if (changing === 0) {
      out('Nothing to change.');
      return 0;
    }
    if (countOf(plan, 'create') + countOf(plan, 'update') > 0) {
      // Pointing the jobs at a key the functions refuse would fail every scheduled call with 401.
      const check = await checkCronKey(options.functionsBaseUrl, cronKey, deps.fetch);
      if (check === 'refused') {
        throw new CliError(
          `refusing to apply: the functions at ${options.functionsBaseUrl} refuse the key in ${options.keySecret} (401). ` +
            'Deploy them with it first (docs/operations.md, "Rotate the cron key", step 1), then apply again',
        );
      }
      if (check !== 'accepted') throw new CliError(`refusing to apply: ${check.problem}`);
    }
    await applyPlan(scheduler, plan, parent, cronKey, out);
    out(`Applied: ${countOf(plan, 'create')} created, ${countOf(plan, 'update')} updated, ${countOf(plan, 'delete')} deleted.`);
    return 0;
  } catch (error) {
    err(`error: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof UsageError) err(`\n${USAGE}`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    // A client that never connected (no credentials) rejects its close with the same error.
    await Promise.allSettled(clients.map((client) => client.close()));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await runSchedulerCli(process.argv.slice(2));
