import type { CloudSchedulerClient } from '@google-cloud/scheduler';
import { explain } from '../google.js';
import { locationName, parseOwnedDescription } from './desired.js';
import { jobId, sentKeyFingerprint } from './plan.js';

/** Which key each job this project owns in a location sends, by fingerprint (never the key). */
export async function listOwnedJobKeys(client: CloudSchedulerClient, projectId: string, location: string): Promise<{ id: string; fingerprint: string | null }[]> {
  const parent = locationName({ projectId, location });
  let jobs;
  try {
    [jobs] = await client.listJobs({ parent });
  } catch (error) {
    throw explain(error, `listing the jobs of ${parent}`, {
      PERMISSION_DENIED: 'Whoever runs this needs roles/cloudscheduler.viewer (or admin) on the project',
      NOT_FOUND: 'Check --project and --region',
    });
  }
  return jobs.filter((job) => parseOwnedDescription(jobId(job), job.description)).map((job) => ({ id: jobId(job), fingerprint: sentKeyFingerprint(job) }));
}
