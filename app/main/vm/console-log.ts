// The serial console log, read back for diagnosis: the last lines say where a boot stopped.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';

export function consoleTail(file: string, lines = 20, maxBytes = 16 * 1024): string[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8').split(/\r?\n/).filter((l) => l.trim() !== '').slice(-lines);
  } finally {
    closeSync(fd);
  }
}
