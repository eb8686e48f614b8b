// Signals by name ("SIGTERM", "TERM", "term") or number, as dockerd's signal.ParseSignal accepts.
import os from 'node:os';
import { invalidParameter } from '../errors';

const BY_NAME = os.constants.signals as Record<string, number>;

export function parseSignal(raw: string | number | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw === 'number' || /^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n <= 0 || n > 64) throw invalidParameter(`Invalid signal: ${raw}`);
    return n;
  }
  const upper = raw.toUpperCase();
  const n = BY_NAME[upper.startsWith('SIG') ? upper : `SIG${upper}`];
  if (n === undefined) throw invalidParameter(`Invalid signal: ${raw}`);
  return n;
}

export const SIGKILL = 9;
export const SIGTERM = 15;
