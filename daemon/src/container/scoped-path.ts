// Paths inside a container's root filesystem, resolved the way the container would see them:
// symlinks are followed relative to the container's root, and `..` never climbs above it. Used
// for /etc/passwd lookups, the working directory and `docker cp`, where a hostile image could
// otherwise point a symlink at the host's files.
import { lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { invalidParameter } from '../errors';

const MAX_LINKS = 255;

/**
 * The host path of `inner` in `root`. With `followLast` false the last component is not followed
 * when it is a symlink (docker cp copies the link itself). Components that do not exist are
 * kept as they are, so the result can be created.
 */
export function resolveInRoot(root: string, inner: string, followLast = true): string {
  const pending = inner.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = path.join(root, ...done, part);
    const isLast = pending.length === 0;
    let st;
    try {
      st = lstatSync(candidate);
    } catch {
      done.push(part);
      continue;
    }
    if (st.isSymbolicLink() && (!isLast || followLast)) {
      if (++links > MAX_LINKS) throw invalidParameter(`too many levels of symbolic links resolving ${inner}`);
      const target = readlinkSync(candidate);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    done.push(part);
  }
  return path.join(root, ...done);
}
