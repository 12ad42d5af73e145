/**
 * Wiping an emulator project between runs, through the emulators' own REST endpoints: the
 * one place tests and benchmarks say how.
 */

/**
 * Deletes every Firestore document of the project (on `firestoreHost`, default
 * FIRESTORE_EMULATOR_HOST) and, when `authHost` is given, every Auth user; throws naming the
 * status of each call when one is refused.
 */
export async function clearEmulatorProject(projectId: string, hosts: { firestoreHost?: string; authHost?: string } = {}): Promise<void> {
  const firestoreHost = hosts.firestoreHost ?? process.env.FIRESTORE_EMULATOR_HOST;
  if (!firestoreHost) throw new Error(`FIRESTORE_EMULATOR_HOST is not set: no emulator to clear ${projectId} on`);
  const calls = [fetch(`http://${firestoreHost}/emulator/v1/projects/${projectId}/databases/(default)/documents`, { method: 'DELETE' })];
  if (hosts.authHost) calls.push(fetch(`http://${hosts.authHost}/emulator/v1/projects/${projectId}/accounts`, { method: 'DELETE' }));
  const answers = await Promise.all(calls);
  if (answers.some((answer) => !answer.ok)) throw new Error(`could not clear the emulators of ${projectId} (${answers.map((a) => a.status).join(', ')})`);
}
