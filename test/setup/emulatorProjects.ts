/**
 * The emulator projects a test process used, so that test/setup/leaks.ts can check at the end
 * of each test file that it left none of them with data: a file's leftovers would otherwise
 * meet the next run of that file, or an inspection of the emulator, as if they were new.
 */
import { request } from 'node:http';

const used = new Set<string>();

/** Registers a project this test process writes to; it must be empty when the file ends. */
export function usesEmulatorProject(projectId: string): void {
  used.add(projectId);
}

export function usedEmulatorProjects(): string[] {
  return [...used].sort();
}

/**
 * A plain request without keep-alive: the check runs after the file's own hooks, and an idle
 * pooled socket would itself look like a leak.
 */
function post(host: string, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port: Number(port), path, method: 'POST', agent: false, headers: { authorization: 'Bearer owner', 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : {} });
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** What a project still holds: a few document paths and the number of Auth accounts. */
export async function leftovers(projectId: string): Promise<string[]> {
  const problems: string[] = [];
  const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST;
  if (firestoreHost) {
    const root = `projects/${projectId}/databases/(default)/documents`;
    const { status, json } = await post(firestoreHost, `/v1/${root}:runQuery`, { structuredQuery: { from: [{ allDescendants: true }], limit: 3 } });
    if (status !== 200) throw new Error(`could not read emulator project ${projectId} (${status})`);
    const paths = (json as { document?: { name: string } }[]).flatMap((r) => (r.document ? [r.document.name.slice(root.length + 1)] : []));
    if (paths.length > 0) problems.push(`documents (${paths.join(', ')}${paths.length === 3 ? ', ...' : ''})`);
  }
  const authHost = process.env.FIREBASE_AUTH_EMULATOR_HOST;
  if (authHost) {
    const { status, json } = await post(authHost, `/identitytoolkit.googleapis.com/v1/projects/${projectId}/accounts:query`, { returnUserInfo: false });
    if (status !== 200) throw new Error(`could not read the Auth accounts of emulator project ${projectId} (${status})`);
    const count = Number((json as { recordsCount?: string }).recordsCount ?? 0);
    if (count > 0) problems.push(`${count} Auth account(s)`);
  }
  return problems;
}
