/**
 * Loaded into every test process (`--import`, see scripts/test.ts). The runner ends each test
 * file's process once its tests and hooks are done (`--test-force-exit`); this module holds that
 * exit back until the process has let go of everything it opened, and fails the file, naming
 * what is left, when a server, socket, timer or child process is still open after a short
 * grace period, or when an emulator project the file used (test/setup/emulatorProjects.ts)
 * still holds data. Without it a leaked server would keep the file's process alive, and the
 * whole run with it, or pass unnoticed when unref'ed elsewhere.
 */
import { Server, Socket } from 'node:net';
import { ChildProcess } from 'node:child_process';
import { leftovers, usedEmulatorProjects } from './emulatorProjects.js';

/** Handles that close a moment after their owner closes them get this long. */
const GRACE_MS = 3000;
const POLL_MS = 25;
/** The runner's own channels to the parent process. */
const RUNNER_RESOURCES = new Set(['PipeWrap', 'TTYWrap']);

/** Read between polls, when the poll's own timer has fired and holds nothing open. */
function openResources(): string[] {
  return process.getActiveResourcesInfo().filter((type) => !RUNNER_RESOURCES.has(type));
}

/** Names handles in words where Node lets us see them (servers' addresses, child processes). */
function describeHandles(): string[] {
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
  return handles.flatMap((handle) => {
    if (handle instanceof Server) {
      const address = handle.address();
      return [`a server listening on ${typeof address === 'string' ? address : `${address?.address}:${address?.port}`}`];
    }
    if (handle instanceof ChildProcess) return [`child process ${handle.pid} (${handle.spawnfile})`];
    if (handle instanceof Socket && !(handle as { _isStdio?: boolean })._isStdio && handle.remotePort !== undefined) {
      return [`a socket to ${handle.remoteAddress}:${handle.remotePort}`];
    }
    return [];
  });
}

async function emulatorLeftovers(): Promise<string[]> {
  const problems: string[] = [];
  for (const projectId of usedEmulatorProjects()) {
    try {
      const left = await leftovers(projectId);
      if (left.length > 0) problems.push(`emulator project ${projectId} still holds ${left.join(' and ')}`);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  return problems;
}

const exit = process.exit.bind(process);
let checking = false;

process.exit = ((code?: number | string | null) => {
  if (checking) return undefined as never;
  checking = true;
  void (async () => {
    const problems = await emulatorLeftovers();
    const started = Date.now();
    while (openResources().length > 0 && Date.now() - started < GRACE_MS) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const open = openResources();
    if (open.length > 0) {
      const described = describeHandles();
      problems.push(`left open after its tests: ${open.join(', ')}${described.length > 0 ? ` (${described.join('; ')})` : ''}`);
    }
    if (problems.length === 0) return exit(code ?? undefined);
    const file = process.argv[1] ?? 'this test file';
    process.stderr.write(`\n${file} left things behind:\n${problems.map((p) => `  - ${p}\n`).join('')}\n`);
    return exit(1);
  })();
  return undefined as never;
}) as typeof process.exit;
