import { useSyncExternalStore } from 'react';
import type { State, Store } from '../store.js';

/** The store's state, re-rendering on change. */
export function useStore(store: Store): State {
  return useSyncExternalStore(store.subscribe, store.getState, store.getState);
}
