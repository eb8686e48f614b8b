// The user's settings, kept in a JSON file written atomically (temporary file, fsync, rename).
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from '../../shared/views.js';
import type { Emit } from './broadcaster.js';

export const DEFAULT_SETTINGS: Settings = { theme: 'system', endpoint: '' };

export class SettingsService {
  private current: Settings;

  /** `file` undefined keeps settings in memory only (web mode started with --engine). */
  constructor(private readonly file: string | undefined, private readonly emit: Emit, overrides: Partial<Settings> = {}) {
    this.current = { ...DEFAULT_SETTINGS, ...this.read(), ...overrides };
  }

  get(): Settings {
    return this.current;
  }

  async set(patch: Partial<Settings>): Promise<Settings> {
    this.current = { ...this.current, ...patch };
    if (this.file) await writeAtomically(this.file, JSON.stringify(this.current, null, 2) + '\n');
    this.emit('settings:changed', this.current);
    return this.current;
  }

  private read(): Partial<Settings> {
    if (!this.file) return {};
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as Partial<Settings>;
    } catch {
      return {};
    }
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}
