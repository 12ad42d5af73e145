import { onAuthStateChanged, signOut, type User } from 'firebase/auth';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import type { MeResponse } from '@functions/schema/index.js';
import { api, errorText } from '../api';
import { auth } from '../firebase';

export type Session =
  | { state: 'loading' }
  | { state: 'signed-out' }
  | { state: 'signed-in'; user: User; me: MeResponse | null; error: string | null };

const SessionContext = createContext<Session>({ state: 'loading' });

/** Who is signed in, and whether the server counts them as an admin (claim or ADMIN_EMAILS). */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session>({ state: 'loading' });
  useEffect(
    () =>
      onAuthStateChanged(auth, (user) => {
        if (!user) {
          setSession({ state: 'signed-out' });
          return;
        }
        setSession({ state: 'signed-in', user, me: null, error: null });
        api
          .me()
          .then((me) => setSession((s) => (s.state === 'signed-in' && s.user.uid === user.uid ? { ...s, me } : s)))
          .catch((error: unknown) => setSession((s) => (s.state === 'signed-in' ? { ...s, error: errorText(error) } : s)));
      }),
    [],
  );
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export const useSession = () => useContext(SessionContext);

export const signOutUser = () => signOut(auth);
