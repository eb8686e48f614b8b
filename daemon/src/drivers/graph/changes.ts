// A container's changes against its image, and those changes as a layer tar (for commit and
// export of diffs). overlay reads them off the upper directory; vfs compares two full trees.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { createReadStream, type Stats } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pack as tarPack } from 'tar-stream';
import type { Change } from './graph-driver';

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch {
    return null;
  }
}

const isWhiteoutDevice = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

/**
 * The opaque directories of an overlay upper directory ("/a/b" paths), found with one getfattr
 * walk rather than one lookup per directory.
 */
export function opaqueDirs(upper: string): Promise<Set<string>> {
  return new Promise((resolve) => {
    execFile('getfattr', ['-R', '-h', '--absolute-names', '-n', 'trusted.overlay.opaque', upper], { maxBuffer: 64 << 20 }, (_err, stdout) => {
      // getfattr exits non-zero when some files lack the attribute; what it printed is still right.
      const out = new Set<string>();
      let file: string | undefined;
      for (const line of stdout.split('\n')) {
        if (line.startsWith('# file: ')) file = unescapeGetfattr(line.slice(8));
        else if (file && line === 'trusted.overlay.opaque="y"') out.add(file.slice(upper.length) || '/');
      }
      resolve(out);
    });
  });
}

function unescapeGetfattr(s: string): string {
  return Buffer.from(s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))), 'latin1').toString('utf8');
}

/** Changes in an overlay upper directory; `lowers` are the image's layer dirs, top first. */
export async function overlayChanges(upper: string, lowers: string[]): Promise<Change[]> {
  const out: Change[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(path.join(upper, rel))).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const st = await lstat(path.join(upper, childRel));
      if (isWhiteoutDevice(st)) {
        out.push({ Path: '/' + childRel, Kind: 2 });
        continue;
      }
      let inLower = false;
      for (const l of lowers) {
        const lst = await lstatOrNull(path.join(l, childRel));
        if (lst) {
          inLower = !isWhiteoutDevice(lst);
          break;
        }
      }
      out.push({ Path: '/' + childRel, Kind: inLower ? 0 : 1 });
      if (st.isDirectory()) await walk(childRel);
    }
  };
  await walk('');
  return out;
}

function differs(a: Stats, b: Stats): boolean {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) return true;
  if (a.isDirectory()) return false;
  return a.size !== b.size || a.mtimeMs !== b.mtimeMs || a.rdev !== b.rdev;
}

/** Changes of a full tree (`root`) against the tree it was copied from (`base`), for vfs. */
export async function treeChanges(root: string, base: string | undefined): Promise<Change[]> {
  const out: Change[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(path.join(root, rel))).sort();
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const st = await lstat(path.join(root, childRel));
      const old = base ? await lstatOrNull(path.join(base, childRel)) : null;
      if (!old || old.isDirectory() !== st.isDirectory()) out.push({ Path: '/' + childRel, Kind: 1 });
      else if (differs(st, old)) out.push({ Path: '/' + childRel, Kind: 0 });
      if (st.isDirectory()) await walk(childRel);
    }
    if (base) {
      const before = await readdir(path.join(base, rel)).catch(() => [] as string[]);
      const now = new Set(names);
      for (const name of before) if (!now.has(name)) out.push({ Path: '/' + (rel ? `${rel}/${name}` : name), Kind: 2 });
    }
  };
  await walk('');
  return out.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
}

/**
 * The changes as a layer tar: added and modified entries from `root`, deletions as `.wh.` files.
 * Entries stream one at a time, so a large diff never sits in memory.
 */
export function packChanges(root: string, changes: Change[], opaque: Set<string> = new Set()): Readable {
  const pack = tarPack();
  const seenInodes = new Map<string, string>();
  (async () => {
    for (const c of changes) {
      const rel = c.Path.slice(1);
      if (c.Kind === 2) {
        const dir = path.posix.dirname(rel);
        const name = `${dir === '.' ? '' : dir + '/'}.wh.${path.posix.basename(rel)}`;
        await entry(pack, { name, type: 'file', size: 0, mode: 0o644, mtime: new Date(0) });
        continue;
      }
      const full = path.join(root, rel);
      const st = await lstat(full);
      const common = { name: rel, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
      if (st.isDirectory()) {
        await entry(pack, { ...common, type: 'directory' });
        // A directory the container deleted and made again hides everything below it.
        if (opaque.has(c.Path)) await entry(pack, { name: `${rel}/.wh..wh..opq`, type: 'file', size: 0, mode: 0o644, mtime: new Date(0) });
      } else if (st.isSymbolicLink()) {
        await entry(pack, { ...common, type: 'symlink', linkname: await readlink(full) });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? seenInodes.get(key) : undefined;
        if (first) {
          await entry(pack, { ...common, type: 'link', linkname: first });
          continue;
        }
        if (st.nlink > 1) seenInodes.set(key, rel);
        await streamEntry(pack, { ...common, type: 'file', size: st.size }, createReadStream(full));
      } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
        const type = st.isFIFO() ? 'fifo' : st.isBlockDevice() ? 'block-device' : 'character-device';
        await entry(pack, { ...common, type, devmajor: Math.floor(st.rdev / 256) & 0xfff, devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) });
      }
    }
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return Readable.from(pack as AsyncIterable<Buffer>);
}

/** Writes one entry's body from a stream (tar-stream's sinks are streamx streams: no pipe()). */
export async function streamEntry(pack: ReturnType<typeof tarPack>, header: Parameters<ReturnType<typeof tarPack>['entry']>[0], body: AsyncIterable<Buffer>): Promise<void> {
  let failed: Error | undefined;
  const done = new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    (async () => {
      for await (const chunk of body) {
        if (!sink.write(chunk)) await new Promise((r) => sink.once('drain', r));
      }
      sink.end();
    })().catch((err: Error) => {
      failed = err;
      sink.destroy(err);
      reject(err);
    });
  });
  await done;
  if (failed) throw failed;
}

function entry(pack: ReturnType<typeof tarPack>, header: Parameters<ReturnType<typeof tarPack>['entry']>[0]): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, '', (err) => (err ? reject(err) : resolve())));
}
