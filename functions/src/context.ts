import { getApps, initializeApp } from 'firebase-admin/app';
import { getAuth, type Auth } from 'firebase-admin/auth';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';
import { loadConfig, type Config } from './config/index.js';
import type { HandlerRegistry } from './queue/index.js';
import { fanOutHandler } from './scheduler/fanout.js';

/** Everything a request needs, built once per instance; tests build their own. */
export interface AppContext {
  db: Firestore;
  auth: Auth;
  config: Config;
  handlers: HandlerRegistry;
  startedAt: number;
}

export const defaultHandlers: HandlerRegistry = { 'fan-out': fanOutHandler };

export function createAppContext(overrides: Partial<AppContext> = {}): AppContext {
  const app = getApps()[0] ?? initializeApp();
  return {
    db: overrides.db ?? getFirestore(app),
    auth: overrides.auth ?? getAuth(app),
    config: overrides.config ?? loadConfig(),
    handlers: overrides.handlers ?? defaultHandlers,
    startedAt: overrides.startedAt ?? Date.now(),
  };
}
