import { WriteBatch, type DocumentReference } from 'firebase-admin/firestore';

/**
 * Makes chosen writes to the (real) emulator fail the way a Firestore hiccup does: the
 * commit is refused with gRPC UNAVAILABLE before anything is sent. Every write of the
 * Admin SDK goes through a WriteBatch (DocumentReference.set/update/delete included), so
 * a rule sees each write with its document path and data.
 */
export interface WriteFault {
  op: 'set' | 'update' | 'create' | 'delete';
  /** Decides whether this write makes its commit fail. */
  when(path: string, data: Record<string, unknown> | undefined): boolean;
  /** How many commits to fail. Default 1. */
  times?: number;
}

export interface InjectedFaults {
  /** Commits failed so far, per rule. */
  readonly fired: number[];
  restore(): void;
}

const UNAVAILABLE = 14;
const marked = new WeakMap<WriteBatch, number>();

export function injectWriteFaults(rules: WriteFault[]): InjectedFaults {
  const fired = rules.map(() => 0);
  const proto = WriteBatch.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  for (const op of ['set', 'update', 'create', 'delete', 'commit']) originals.set(op, proto[op]!);

  for (const op of ['set', 'update', 'create', 'delete'] as const) {
    proto[op] = function (this: WriteBatch, ...args: unknown[]) {
      const ref = args[0] as DocumentReference;
      const data = typeof args[1] === 'object' && args[1] !== null ? (args[1] as Record<string, unknown>) : undefined;
      const index = rules.findIndex((rule, i) => rule.op === op && fired[i]! < (rule.times ?? 1) && rule.when(ref.path, data));
      if (index >= 0 && !marked.has(this)) marked.set(this, index);
      return originals.get(op)!.apply(this, args);
    };
  }
  proto.commit = function (this: WriteBatch, ...args: unknown[]) {
    const index = marked.get(this);
    if (index !== undefined && fired[index]! < (rules[index]!.times ?? 1)) {
      fired[index]!++;
      return Promise.reject(Object.assign(new Error(`${UNAVAILABLE} UNAVAILABLE: injected by the test`), { code: UNAVAILABLE }));
    }
    return originals.get('commit')!.apply(this, args);
  };

  return {
    fired,
    restore() {
      for (const [op, fn] of originals) proto[op] = fn;
    },
  };
}

/** Runs `run` with the faults in force, and always restores the SDK afterwards. */
export async function withWriteFaults<T>(rules: WriteFault[], run: () => Promise<T>): Promise<{ result: T; fired: number[] }> {
  const faults = injectWriteFaults(rules);
  try {
    return { result: await run(), fired: [...faults.fired] };
  } finally {
    faults.restore();
  }
}
