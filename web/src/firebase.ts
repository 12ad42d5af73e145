import { initializeApp, type FirebaseOptions } from 'firebase/app';
import { connectAuthEmulator, getAuth } from 'firebase/auth';
import { connectFirestoreEmulator, getFirestore } from 'firebase/firestore';

/**
 * The one place that initialises Firebase. Firebase Hosting serves the project's web config
 * at /__/firebase/init.js; under the Hosting emulator, `?useEmulator=true` adds where the
 * Auth and Firestore emulators listen. That script drives a namespaced `firebase` global:
 * a stand-in records what it is told, and the modular SDK is set up from it.
 */
interface HostingInit {
  config: FirebaseOptions | null;
  firestore: { host: string; port: number } | null;
  authUrl: string | null;
}

interface NamespacedStandIn {
  initializeApp(config: FirebaseOptions): void;
  firestore(): { useEmulator(host: string, port: number): void };
  auth(): { useEmulator(url: string): void };
}

function loadHostingInit(): Promise<HostingInit> {
  const seen: HostingInit = { config: null, firestore: null, authUrl: null };
  const standIn: NamespacedStandIn = {
    initializeApp: (config) => {
      seen.config = config;
    },
    firestore: () => ({ useEmulator: (host, port) => (seen.firestore = { host, port }) }),
    auth: () => ({ useEmulator: (url) => (seen.authUrl = url) }),
  };
  const global = window as unknown as { firebase?: NamespacedStandIn };
  global.firebase = standIn;
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/__/firebase/init.js?useEmulator=true';
    script.onload = () => {
      delete global.firebase;
      resolve(seen);
    };
    script.onerror = () => reject(new Error('could not load the Firebase configuration from Hosting'));
    document.head.append(script);
  });
}

const init = await loadHostingInit();
if (!init.config) throw new Error('Hosting served no Firebase configuration for this site');

export const app = initializeApp(init.config);
export const auth = getAuth(app);
export const db = getFirestore(app);
if (init.authUrl) connectAuthEmulator(auth, init.authUrl, { disableWarnings: true });
if (init.firestore) connectFirestoreEmulator(db, init.firestore.host, init.firestore.port);
