// The app store, reachable from any component.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { AppActions, AppState, AppStore } from '../stores/app-store.js';

export const StoreContext = createContext<AppStore | null>(null);

export function useApp<T>(select: (s: AppState & AppActions) => T): T {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useApp outside StoreContext');
  return useStore(store, select);
}

/** Runs an engine action for a container, marking it busy and reporting a failure as a notice. */
export function useContainerAction() {
  const setBusy = useApp((s) => s.setBusy);
  const notify = useApp((s) => s.notify);
  return async (id: string, label: string, action: () => Promise<unknown>) => {
    setBusy(id, true);
    try {
      await action();
    } catch (err) {
      notify('error', `${label} failed: ${(err as Error).message}`);
    } finally {
      setBusy(id, false);
    }
  };
}
