// Removal of a layer directory that a crash cannot leave half-deleted under its real name: it is
// renamed to `tmp-rm-…` first (which the next start sweeps), then deleted.
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Removes `home/name`; nothing to do when it is already gone. */
export async function removeDirByRename(home: string, name: string): Promise<void> {
  const doomed = path.join(home, `tmp-rm-${randomBytes(6).toString('hex')}`);
  try {
    await rename(path.join(home, name), doomed);
  } catch {
    return;
  }
  await rm(doomed, { recursive: true, force: true });
}
