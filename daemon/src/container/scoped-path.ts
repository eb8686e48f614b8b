// Paths inside a container's root filesystem, resolved the way the container would see them:
// symlinks are followed relative to the container's root, and `..` never climbs above it. Used
// for /etc/passwd lookups, the working directory and `docker cp`, where a hostile image could
// otherwise point a symlink at the host's files; and by the builder, over its context's index.
import { lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { invalidParameter } from '../errors';

const MAX_LINKS = 255;

/**
 * The components of `inner` resolved inside a root the way a process chrooted there would see
 * them: `..` stops at the root and symlinks are followed relative to it. `readlink` gives the
 * target of the symlink named by `parts` (undefined for anything else, or nothing): the real
 * filesystem here, the build context's index in the builder. Components that do not exist are
 * kept as they are, so the result can be created. With `followLast` false a final symlink is
 * kept itself (docker cp copies the link).
 */
export function resolveScoped(inner: string, readlink: (parts: string[]) => string | undefined, followLast = true): string[] {
  const pending = inner.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const target = pending.length > 0 || followLast ? readlink([...done, part]) : undefined;
    if (target !== undefined) {
      if (++links > MAX_LINKS) throw invalidParameter(`too many levels of symbolic links resolving ${inner}`);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    done.push(part);
  }
  return done;
}

/** The host path of `inner` in `root` (see resolveScoped). */
export function resolveInRoot(root: string, inner: string, followLast = true): string {
  return path.join(root, ...resolveScoped(inner, (parts) => {
    const candidate = path.join(root, ...parts);
    try {
      return lstatSync(candidate).isSymbolicLink() ? readlinkSync(candidate) : undefined;
    } catch {
      return undefined;
    }
  }, followLast));
}
