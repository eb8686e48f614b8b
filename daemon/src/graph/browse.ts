// Image browsing for the app (what `dive` shows): an image's layers with the instruction that
// made each and its size, and each layer's file tree one directory at a time, with whether each
// entry was added, modified or removed against the layers below. One directory per request and
// paging within it keep a 100 000-file layer answering fast.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import type { Stats } from 'node:fs';
import path from 'node:path';
import type { Graph } from './graph';
import type { LayerInfo } from './interfaces';
import { hexOf } from './content-store';
import { invalidParameter, notFound } from '../errors';

export interface LayerSummary {
  index: number;
  diffId: string;
  chainId: string;
  size: number;
  /** The history entry that made the layer: its created_by (the Dockerfile instruction). */
  instruction: string;
  comment: string;
  created: string;
}

export type ChangeKind = 'added' | 'modified' | 'removed';

export interface TreeEntry {
  name: string;
  path: string;
  type: 'directory' | 'file' | 'symlink' | 'other';
  size: number;
  mode: number;
  uid: number;
  gid: number;
  linkTarget?: string;
  /** What this layer did to the entry; null when it comes unchanged from a layer below. */
  change: ChangeKind | null;
}

export interface TreePage {
  layer: number;
  path: string;
  total: number;
  offset: number;
  entries: TreeEntry[];
}

/** Where a name was found in a merged listing: the layer directory holding it, or a whiteout. */
type Seen = { dir: string; isDir: boolean } | 'removed';

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch {
    return null;
  }
}

function isOpaque(dir: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('getfattr', ['-h', '--only-values', '-n', 'trusted.overlay.opaque', dir], (err, out) => resolve(!err && out === 'y'));
  });
}

const typeOf = (st: Stats): TreeEntry['type'] => (st.isDirectory() ? 'directory' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other');

export class LayerBrowser {
  constructor(private readonly graph: Graph) {}

  private chainOf(name: string): LayerInfo[] {
    const { record } = this.graph.resolve(name);
    return record.chainId ? this.graph.layers.chain(record.chainId) : [];
  }

  async layers(name: string): Promise<LayerSummary[]> {
    const { record } = this.graph.resolve(name);
    const config = await this.graph.images.config(record.id);
    const chain = this.chainOf(name);
    const history = (config.history ?? []).filter((h) => !h.empty_layer);
    return chain.map((l, i) => ({
      index: i,
      diffId: l.diffId,
      chainId: l.chainId,
      size: l.size,
      instruction: history[i]?.created_by ?? '',
      comment: history[i]?.comment ?? '',
      created: history[i]?.created ?? config.created ?? '',
    }));
  }

  /**
   * The merged listing of `rel` over layers 0..top with overlay's rules (whiteouts hide, opaque
   * directories stop the descent). Only directory entries are read; character devices (possible
   * whiteouts) are the only entries stat'ed, so a huge directory costs one readdir per layer.
   */
  private async mergedOverlay(dirs: string[], top: number, rel: string): Promise<Map<string, Seen>> {
    const out = new Map<string, Seen>();
    for (let i = top; i >= 0; i--) {
      const here = path.join(dirs[i]!, rel);
      const st = await lstatOrNull(here);
      if (!st) continue;
      if (!st.isDirectory()) break; // a file or whiteout here hides the directory below
      for (const d of await readdir(here, { withFileTypes: true })) {
        if (out.has(d.name)) continue;
        if (d.isCharacterDevice() && (await lstat(path.join(here, d.name))).rdev === 0) out.set(d.name, 'removed');
        else out.set(d.name, { dir: here, isDir: d.isDirectory() });
      }
      if (await isOpaque(here)) break;
    }
    return out;
  }

  private async listing(dirs: string[], vfs: boolean, top: number, rel: string): Promise<Map<string, Seen>> {
    if (top < 0) return new Map();
    if (!vfs) return this.mergedOverlay(dirs, top, rel);
    const out = new Map<string, Seen>();
    const here = path.join(dirs[top]!, rel);
    for (const d of await readdir(here, { withFileTypes: true }).catch(() => [])) out.set(d.name, { dir: here, isDir: d.isDirectory() });
    return out;
  }

  async tree(args: { name: string; layer: number; path: string; offset: number; limit: number; changesOnly: boolean }): Promise<TreePage> {
    const chain = this.chainOf(args.name);
    if (!Number.isInteger(args.layer) || args.layer < 0 || args.layer >= chain.length) {
      throw invalidParameter(`layer ${args.layer} does not exist: the image has ${chain.length} layers (0 to ${chain.length - 1})`);
    }
    const rel = path.posix.normalize('/' + args.path).slice(1).replace(/\/$/, '');
    if (rel.split('/').includes('..')) throw invalidParameter('path must stay inside the image');
    const driver = this.graph.driver;
    const vfs = driver.name === 'vfs';
    const dirs = chain.map((l) => driver.layerDir(hexOf(l.chainId)));
    const now = await this.listing(dirs, vfs, args.layer, rel);
    const below = await this.listing(dirs, vfs, args.layer - 1, rel);
    if (now.size === 0 && rel !== '') {
      const anywhere = await Promise.all(dirs.slice(0, args.layer + 1).map((d) => lstatOrNull(path.join(d, rel))));
      if (!anywhere.some((st) => st?.isDirectory())) throw notFound(`no directory /${rel} in layer ${args.layer}`);
    }
    const ownDir = path.join(dirs[args.layer]!, rel);
    const delta = vfs ? await driver.layerDelta?.(hexOf(chain[args.layer]!.chainId)) : undefined;

    // Classify by name first (cheap); stat only the entries the page shows.
    const classify = async (name: string): Promise<{ shown: Exclude<Seen, 'removed'>; change: ChangeKind | null } | undefined> => {
      const cur = now.get(name);
      const old = below.get(name);
      const oldLive = old && old !== 'removed' ? old : undefined;
      if (cur === 'removed' || cur === undefined) return oldLive ? { shown: oldLive, change: 'removed' } : undefined;
      if (!vfs) return { shown: cur, change: cur.dir === ownDir ? (oldLive ? 'modified' : 'added') : null };
      if (!oldLive) return { shown: cur, change: 'added' };
      // vfs layers are full trees: what the layer's own tar wrote was noted when it was unpacked.
      if (delta) return { shown: cur, change: delta.touched.has(rel ? `${rel}/${name}` : name) ? 'modified' : null };
      const [a, b] = await Promise.all([lstat(path.join(cur.dir, name)), lstat(path.join(oldLive.dir, name))]);
      return { shown: cur, change: changed(a, b) ? 'modified' : null };
    };
    const names = [...new Set([...now.keys(), ...below.keys()])].sort();
    const selected: { name: string; shown: Exclude<Seen, 'removed'>; change: ChangeKind | null }[] = [];
    let total = 0;
    const limit = Math.min(Math.max(args.limit, 1), 5000);
    for (const name of names) {
      // Without a filter, names past the page need no classification beyond existing at all.
      const inPage = total >= args.offset && selected.length < limit;
      if (!inPage && !args.changesOnly) {
        const cur = now.get(name);
        const old = below.get(name);
        if ((cur && cur !== 'removed') || (old && old !== 'removed')) total++;
        continue;
      }
      const c = await classify(name);
      if (!c || (args.changesOnly && c.change === null)) continue;
      if (total >= args.offset && selected.length < limit) selected.push({ name, ...c });
      total++;
    }
    const entries: TreeEntry[] = [];
    for (const { name, shown, change } of selected) {
      const full = path.join(shown.dir, name);
      const st = await lstat(full);
      entries.push({
        name,
        path: '/' + (rel ? `${rel}/${name}` : name),
        type: typeOf(st),
        size: st.isFile() ? st.size : 0,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        ...(st.isSymbolicLink() ? { linkTarget: await readlink(full) } : {}),
        change,
      });
    }
    return { layer: args.layer, path: '/' + rel, total, offset: args.offset, entries };
  }
}

function changed(a: Stats, b: Stats): boolean {
  return a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || (!a.isDirectory() && (a.size !== b.size || a.mtimeMs !== b.mtimeMs));
}
