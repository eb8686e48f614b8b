// Every on-disk write that matters is atomic: a crash leaves the old content or the new, never
// half. Write a temporary file beside the target, fsync it, rename it over the target, then fsync
// the directory so the rename itself is on disk.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export interface AtomicWriteOptions {
  mode?: number;
  /**
   * False skips the fsyncs (about 10 ms here): still atomic against a crash of berthd, not
   * against a power cut. For state that is rebuilt at start anyway.
   */
  durable?: boolean;
}

const tmpName = (file: string) => `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;

function syncDir(file: string): void {
  const dir = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export function writeFileAtomicSync(file: string, data: string | Buffer, { mode = 0o600, durable = true }: AtomicWriteOptions = {}): void {
  const tmp = tmpName(file);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeFileSync(fd, data);
    if (durable) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
  if (durable) syncDir(file);
}

/** The same without blocking the event loop on the disk. */
export async function writeFileAtomic(file: string, data: string | Buffer, { mode = 0o600, durable = true }: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tmpName(file);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, file);
  if (durable) {
    const dir = await open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
