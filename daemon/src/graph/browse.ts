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

type Seen = { stats: Stats; dir: string } | 'removed';

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
const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

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

  /** The merged listing of `dir` over layers 0..top (overlay semantics over own-files dirs). */
  private async mergedOverlay(dirs: string[], top: number, rel: string): Promise<Map<string, Seen>> {
    const out = new Map<string, Seen>();
    for (let i = top; i >= 0; i--) {
      const here = path.join(dirs[i]!, rel);
      const st = await lstatOrNull(here);
      if (!st) continue;
      if (!st.isDirectory()) break; // a file or whiteout here hides the directory below
      for (const name of await readdir(here)) {
        if (out.has(name)) continue;
        const cst = await lstat(path.join(here, name));
        out.set(name, isWhiteout(cst) ? 'removed' : { stats: cst, dir: here });
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
    for (const name of await readdir(here).catch(() => [] as string[])) out.set(name, { stats: await lstat(path.join(here, name)), dir: here });
    return out;
  }

  async tree(args: { name: string; layer: number; path: string; offset: number; limit: number; changesOnly: boolean }): Promise<TreePage> {
    const chain = this.chainOf(args.name);
    if (!Number.isInteger(args.layer) || args.layer < 0 || args.layer >= chain.length) {
      throw invalidParameter(`layer ${args.layer} does not exist: the image has ${chain.length} layers (0 to ${chain.length - 1})`);
    }
    const rel = path.posix.normalize('/' + args.path).slice(1);
    if (rel.split('/').includes('..')) throw invalidParameter('path must stay inside the image');
    const driver = this.graph.driver;
    const vfs = driver.name === 'vfs';
    const dirs = chain.map((l) => driver.layerDir(hexOf(l.chainId)));
    const now = await this.listing(dirs, vfs, args.layer, rel);
    const below = await this.listing(dirs, vfs, args.layer - 1, rel);
    if (now.size === 0 && rel !== '' && !(await lstatOrNull(path.join(dirs[args.layer]!, rel)))) {
      // Not a directory of this layer's view: check it exists at all before saying it is empty.
      const anywhere = await Promise.all(dirs.slice(0, args.layer + 1).map((d) => lstatOrNull(path.join(d, rel))));
      if (!anywhere.some((s) => s?.isDirectory())) throw notFound(`no directory /${rel} in layer ${args.layer}`);
    }
    const ownDir = path.join(dirs[args.layer]!, rel);
    const entries: TreeEntry[] = [];
    const names = new Set([...now.keys(), ...[...below.keys()].filter((n) => below.get(n) !== 'removed')]);
    for (const name of [...names].sort()) {
      const cur = now.get(name);
      const old = below.get(name);
      const oldLive = old && old !== 'removed' ? old : undefined;
      let change: ChangeKind | null = null;
      let shown: Exclude<Seen, 'removed'> | undefined;
      if (cur === 'removed' || (cur === undefined && oldLive)) {
        if (!oldLive) continue;
        change = 'removed';
        shown = oldLive;
      } else if (cur) {
        shown = cur;
        const own = vfs ? !oldLive || changed(cur.stats, oldLive.stats) : cur.dir === ownDir;
        if (own) change = oldLive ? 'modified' : 'added';
      }
      if (args.changesOnly && change === null) continue;
      if (!shown) continue;
      const st = shown.stats;
      entries.push({
        name,
        path: '/' + (rel ? `${rel}/${name}` : name),
        type: typeOf(st),
        size: st.isFile() ? st.size : 0,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        ...(st.isSymbolicLink() ? { linkTarget: await readlink(path.join(shown.dir, name)) } : {}),
        change,
      });
    }
    const limit = Math.min(Math.max(args.limit, 1), 5000);
    return { layer: args.layer, path: '/' + rel, total: entries.length, offset: args.offset, entries: entries.slice(args.offset, args.offset + limit) };
  }
}

function changed(a: Stats, b: Stats): boolean {
  return a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || (!a.isDirectory() && (a.size !== b.size || a.mtimeMs !== b.mtimeMs));
}
