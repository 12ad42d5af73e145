import { getDocs, onSnapshot, type DocumentSnapshot, type Query } from 'firebase/firestore';
import { useEffect, useState } from 'react';

export interface Live<T> {
  data: T;
  loading: boolean;
  error: Error | null;
}

/**
 * A Firestore listener as React state: loading until the first snapshot, then every change,
 * unsubscribed on unmount or when `key` changes. A null source means "nothing to listen to".
 */
function useListener<T, S>(
  source: S | null,
  key: string,
  subscribe: (source: S, next: (value: T) => void, fail: (error: Error) => void) => () => void,
  initial: T,
): Live<T> {
  const [state, setState] = useState<Live<T> & { key: string }>({ data: initial, loading: source !== null, error: null, key });
  useEffect(() => {
    if (source === null) {
      setState({ data: initial, loading: false, error: null, key });
      return undefined;
    }
    setState((s) => ({ data: s.key === key ? s.data : initial, loading: true, error: null, key }));
    return subscribe(
      source,
      (data) => setState({ data, loading: false, error: null, key }),
      (error) => setState((s) => ({ ...s, loading: false, error })),
    );
    // The key stands for the source: a new key is a new listener.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return state.key === key ? state : { data: initial, loading: source !== null, error: null };
}

export function useLiveQuery<T>(query: Query | null, key: string, map: (docs: DocumentSnapshot[]) => T, initial: T): Live<T> {
  return useListener(query, key, (q, next, fail) => onSnapshot(q, (snap) => next(map(snap.docs)), fail), initial);
}

/**
 * A query read once per `key`, and again whenever `version` changes: for data written in
 * bulk (metrics), where a listener would stream every row of a sync to every open browser.
 * The caller derives `version` from a listener of its own (a finished sync, a backfill's
 * progress). While a new version loads, the current answer stays on screen.
 */
export function useQueryOnce<T>(query: Query | null, key: string, version: string, map: (docs: DocumentSnapshot[]) => T, initial: T): Live<T> {
  const [state, setState] = useState<Live<T> & { key: string }>({ data: initial, loading: query !== null, error: null, key });
  useEffect(() => {
    if (query === null) {
      setState({ data: initial, loading: false, error: null, key });
      return undefined;
    }
    let cancelled = false;
    setState((s) => (s.key === key ? { ...s, error: null } : { data: initial, loading: true, error: null, key }));
    getDocs(query).then(
      (snap) => !cancelled && setState({ data: map(snap.docs), loading: false, error: null, key }),
      (error: Error) => !cancelled && setState((s) => ({ ...s, loading: false, error })),
    );
    return () => {
      cancelled = true;
    };
    // key names the query; version asks for a fresh read of it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, version]);
  return state.key === key ? state : { data: initial, loading: query !== null, error: null };
}
