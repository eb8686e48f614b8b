// The renderer's handle on window.berth: provided by Electron's preload or web mode's bridge.
// The renderer talks to nothing else.
import type { BerthApi } from '../shared/api.js';

declare global {
  interface Window { berth: BerthApi }
}

export function berth(): BerthApi {
  return window.berth;
}

/** The message of a failed call, as the engine worded it. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
