// Berth's volume browser (an API extension for the app): a paged listing of a directory inside a
// volume and the download of one file. Paths are resolved inside the volume's data: `..` and
// symlinks cannot lead out of it.
import { createReadStream, type ReadStream } from 'node:fs';
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { forbidden, invalidParameter, notFound } from '../../errors';

export interface BrowseEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  /** Permission bits, as `ls -l` would show them in octal. */
  mode: number;
  modified: string;
  /** A symlink's target, as written (it is not followed). */
  target?: string;
}

export interface BrowsePage {
  path: string;
  entries: BrowseEntry[];
  total: number;
  offset: number;
  limit: number;
}

export const MAX_PAGE = 1000;

/** The host path of `rel` inside `dataPath`, refusing anything that resolves outside it. */
export async function resolveInside(dataPath: string, rel: string): Promise<{ host: string; clean: string }> {
  if (rel.includes('\0')) throw invalidParameter('invalid path');
  const clean = path.posix.normalize('/' + rel);
  const root = await realpath(dataPath);
  let host: string;
  try {
    host = await realpath(path.join(root, clean));
  } catch {
    throw notFound(`no such file or directory in the volume: ${clean}`);
  }
  if (host !== root && !host.startsWith(root + path.sep)) throw forbidden(`${clean} leads outside the volume`);
  return { host, clean };
}

function typeOf(st: import('node:fs').Stats): BrowseEntry['type'] {
  return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
}

export async function listDirectory(dataPath: string, rel: string, offset: number, limit: number): Promise<BrowsePage> {
  if (offset < 0 || limit < 1 || limit > MAX_PAGE) throw invalidParameter(`offset must be ≥ 0 and limit between 1 and ${MAX_PAGE}`);
  const { host, clean } = await resolveInside(dataPath, rel);
  if (!(await stat(host)).isDirectory()) throw invalidParameter(`${clean} is not a directory`);
  const names = await readdir(host);
  const entries: BrowseEntry[] = [];
  for (const name of names) {
    const st = await lstat(path.join(host, name)).catch(() => undefined);
    if (!st) continue;
    const entry: BrowseEntry = { name, type: typeOf(st), size: st.size, mode: st.mode & 0o7777, modified: st.mtime.toISOString() };
    if (st.isSymbolicLink()) entry.target = await readlink(path.join(host, name)).catch(() => '');
    entries.push(entry);
  }
  // Directories first, then by name: a stable order so pages do not overlap.
  entries.sort((a, b) => Number(b.type === 'dir') - Number(a.type === 'dir') || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { path: clean, entries: entries.slice(offset, offset + limit), total: entries.length, offset, limit };
}

export async function openVolumeFile(dataPath: string, rel: string): Promise<{ stream: ReadStream; size: number; name: string }> {
  const { host, clean } = await resolveInside(dataPath, rel);
  const st = await stat(host);
  if (!st.isFile()) throw invalidParameter(`${clean} is not a regular file`);
  return { stream: createReadStream(host), size: st.size, name: path.basename(clean) };
}
