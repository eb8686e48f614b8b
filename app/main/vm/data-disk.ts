// The data disk is a sparse raw file: it takes host space only as berthd writes, raw works with
// every backend (qemu, vfkit), and the guest formats it on first boot and grows the filesystem
// when the file grew.
import { openSync, closeSync, ftruncateSync, statSync, rmSync } from 'node:fs';

const GiB = 1024 ** 3;

/** Creates the disk, or grows it to `sizeGiB`. Returns its size in bytes. A smaller size is refused. */
export function ensureDataDisk(file: string, sizeGiB: number): number {
  const want = Math.round(sizeGiB * GiB);
  let have = -1;
  try {
    have = statSync(file).size;
  } catch {
    /* first boot */
  }
  if (have > want) {
    throw new Error(`the data disk is ${(have / GiB).toFixed(1)} GiB and cannot shrink to ${sizeGiB} GiB: choose a larger size, or reset the VM to start with an empty disk`);
  }
  if (have < want) {
    const fd = openSync(file, have < 0 ? 'wx' : 'r+', 0o600);
    try {
      ftruncateSync(fd, want);
    } finally {
      closeSync(fd);
    }
  }
  return want;
}

/** Deletes the data disk (images, containers, volumes): the next boot starts empty. */
export function wipeDataDisk(file: string): void {
  rmSync(file, { force: true });
}
