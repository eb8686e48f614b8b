// What the API shows of images: the summary of `docker images`, the inspect document, the
// history, with dockerd's filters (dangling, label, reference, before, since, until) and prune.
import type { Digest, HistoryEntry, ImageConfig, ImageRecord } from './interfaces';
import type { Graph, DeleteItem } from './graph';
import { hexOf } from './content-store';
import { invalidParameter } from '../errors';

export type ImageFilters = Map<string, string[]>;

// Go's path.Match over a familiar reference ("busybox*", "myorg/app:1.*").
function globToRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw invalidParameter(`invalid reference filter ${JSON.stringify(pattern)}: syntax error in pattern`);
      re += '[' + pattern.slice(i + 1, end).replace(/^\^/, '^').replace(/^!/, '^') + ']';
      i = end;
    } else if (ch === '\\' && i + 1 < pattern.length) re += '\\' + pattern[++i];
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function createdMs(config: ImageConfig): number {
  const t = config.created ? Date.parse(config.created) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

function parseUntil(raw: string): number {
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw) * 1000;
  const rel = /^(\d+)(s|m|h)$/.exec(raw);
  if (rel) return Date.now() - Number(rel[1]) * { s: 1e3, m: 60e3, h: 3600e3 }[rel[2] as 's' | 'm' | 'h'];
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw invalidParameter(`failed to parse value as time or duration: "${raw}"`);
  return t;
}

function labelsMatch(values: string[] | undefined, labels: Record<string, string>, negate = false): boolean {
  if (!values || values.length === 0) return true;
  const ok = values.every((v) => {
    const eq = v.indexOf('=');
    return eq < 0 ? v in labels : labels[v.slice(0, eq)] === v.slice(eq + 1);
  });
  return negate ? !ok : ok;
}

export class ImageViews {
  constructor(private readonly graph: Graph) {}

  /** `all` (all=1) also lists the build intermediates: untagged images that are another's parent. */
  private async selected(filters: ImageFilters, all: boolean): Promise<{ record: ImageRecord; config: ImageConfig }[]> {
    const g = this.graph;
    const dangling = filters.get('dangling');
    if (dangling && dangling.some((v) => !['true', 'false', '1', '0'].includes(v))) {
      throw invalidParameter(`invalid filter 'dangling=[${dangling.join(' ')}]'`);
    }
    const wantDangling = dangling && dangling.length > 0 ? ['true', '1'].includes(dangling[0]!) : undefined;
    const timeOf = async (name: string) => createdMs(await g.images.config(g.resolve(name).record.id));
    const before = filters.get('before')?.[0];
    const since = filters.get('since')?.[0];
    const beforeMs = before ? await timeOf(before) : undefined;
    const sinceMs = since ? await timeOf(since) : undefined;
    const untilRaw = filters.get('until')?.[0];
    const untilMs = untilRaw ? parseUntil(untilRaw) : undefined;
    const patterns = (filters.get('reference') ?? []).map(globToRegex);

    const parents = g.parents();
    const out: { record: ImageRecord; config: ImageConfig }[] = [];
    for (const record of g.images.list()) {
      // dockerd: dangling=true means the heads (untagged, no children) even with all=1, and
      // dangling=false only the tagged; without all, intermediates are hidden.
      const untagged = g.isUntagged(record);
      if (wantDangling === true && !g.isDangling(record, parents)) continue;
      if (wantDangling === false && untagged) continue;
      if (!all && untagged && parents.has(record.id)) continue;
      const config = await g.images.config(record.id);
      const created = createdMs(config);
      if (beforeMs !== undefined && created >= beforeMs) continue;
      if (sinceMs !== undefined && created <= sinceMs) continue;
      if (untilMs !== undefined && created >= untilMs) continue;
      if (!labelsMatch(filters.get('label'), config.config?.Labels ?? {})) continue;
      if (!labelsMatch(filters.get('label!'), config.config?.Labels ?? {}, true) && filters.get('label!')) continue;
      if (patterns.length > 0) {
        const refs = g.references.referencesOf(record.id);
        const hit = refs.some((r) => patterns.some((p) => p.test(r.familiarName) || p.test(r.familiar)));
        if (!hit) continue;
      }
      out.push({ record, config });
    }
    return out.sort((a, b) => createdMs(b.config) - createdMs(a.config));
  }

  async list(filters: ImageFilters, options: { sharedSize: boolean; legacy: boolean; countContainers?: boolean; all?: boolean }): Promise<Record<string, unknown>[]> {
    const g = this.graph;
    const items = await this.selected(filters, options.all === true);
    // How many images use each layer, for SharedSize.
    const uses = new Map<Digest, number>();
    if (options.sharedSize) {
      for (const r of g.images.list()) if (r.chainId) for (const l of g.layers.chain(r.chainId)) uses.set(l.chainId, (uses.get(l.chainId) ?? 0) + 1);
    }
    return items.map(({ record, config }) => {
      const size = g.size(record);
      const tags = g.repoTags(record.id);
      const digests = g.repoDigests(record);
      const shared = options.sharedSize && record.chainId ? g.layers.chain(record.chainId).filter((l) => (uses.get(l.chainId) ?? 0) > 1).reduce((n, l) => n + l.size, 0) : -1;
      const summary: Record<string, unknown> = {
        // dockerd counts containers only for system df; the list says -1 ("not computed").
        Containers: options.countContainers ? g.users.containersUsing(record.id).length : -1,
        Created: Math.floor(createdMs(config) / 1000),
        Id: record.id,
        Labels: config.config?.Labels ?? {},
        ParentId: record.parent ?? '',
        RepoDigests: options.legacy && digests.length === 0 && tags.length === 0 ? ['<none>@<none>'] : digests,
        RepoTags: options.legacy && tags.length === 0 ? ['<none>:<none>'] : tags,
        SharedSize: shared,
        Size: size,
      };
      if (options.legacy) summary.VirtualSize = size;
      return summary;
    });
  }

  async inspect(name: string, version: { atLeast(v: string): boolean }): Promise<Record<string, unknown>> {
    const g = this.graph;
    const { record } = g.resolve(name);
    const config = await g.images.config(record.id);
    const size = g.size(record);
    const body: Record<string, unknown> = {
      Id: record.id,
      RepoTags: g.repoTags(record.id),
      RepoDigests: g.repoDigests(record),
      Parent: record.parent ?? '',
      Comment: config.comment ?? '',
      Created: config.created ?? '',
      DockerVersion: config.docker_version ?? '',
      Author: config.author ?? '',
      Config: imageConfigView(config),
      Architecture: config.architecture ?? '',
      Os: config.os ?? '',
      Size: size,
      GraphDriver: { Name: g.driver.name, Data: record.chainId ? g.driver.metadata(hexOf(record.chainId), 'layer') : {} },
      RootFS: { Type: 'layers', Layers: config.rootfs?.diff_ids ?? [] },
      Metadata: { LastTagTime: record.lastTagTime ?? '0001-01-01T00:00:00Z' },
    };
    if (config.variant) body.Variant = config.variant;
    if (!version.atLeast('1.44')) body.VirtualSize = size;
    if (!version.atLeast('1.45')) {
      body.Container = '';
      body.ContainerConfig = { ...imageConfigView({ rootfs: { type: 'layers', diff_ids: [] } }), Hostname: '', Domainname: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false, Image: '' };
    }
    return body;
  }

  async history(name: string): Promise<Record<string, unknown>[]> {
    const g = this.graph;
    const { record } = g.resolve(name);
    const config = await g.images.config(record.id);
    const layers = record.chainId ? g.layers.chain(record.chainId) : [];
    const history: HistoryEntry[] = config.history && config.history.length > 0 ? config.history : layers.map(() => ({ created: config.created }));
    const out: Record<string, unknown>[] = [];
    let layerIndex = 0;
    for (const h of history) {
      const layer = h.empty_layer ? undefined : layers[layerIndex++];
      out.push({
        Comment: h.comment ?? '',
        Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
        CreatedBy: h.created_by ?? '',
        Id: '<missing>',
        Size: layer?.size ?? 0,
        Tags: null,
      });
    }
    out.reverse();
    // dockerd fills ids from the top down, one image per row, following the parents the builder
    // and commit recorded; the rows below the last known parent stay <missing>.
    let image: ImageRecord | undefined = record;
    for (const row of out) {
      if (!image) break;
      const tags = g.repoTags(image.id);
      row.Id = image.id;
      row.Tags = tags.length > 0 ? tags : null;
      image = image.parent ? g.images.get(image.parent) : undefined;
    }
    return out;
  }

  /**
   * POST /images/prune: dangling images by default (not build intermediates: those go with the
   * image built on them, as each delete walks up its untagged parents); with dangling=false every
   * image no container uses and no child image needs.
   */
  async prune(filters: ImageFilters): Promise<{ ImagesDeleted: DeleteItem[] | null; SpaceReclaimed: number }> {
    const g = this.graph;
    const dangling = filters.get('dangling')?.[0];
    const onlyDangling = dangling === undefined || ['true', '1'].includes(dangling);
    const untilRaw = filters.get('until')?.[0];
    const untilMs = untilRaw ? parseUntil(untilRaw) : undefined;
    const deleted: DeleteItem[] = [];
    const layersBefore = new Map(g.layers.list().map((l) => [l.chainId, l.size]));
    const parents = g.parents();
    // Children before their parents, so that with dangling=false a parent is free when its turn comes.
    const depth = (r: ImageRecord) => {
      let n = 0;
      for (let p = r.parent; p && n < 10_000; p = g.images.get(p)?.parent) n++;
      return n;
    };
    const records = g.images.list().map((r) => ({ r, d: depth(r) })).sort((a, b) => b.d - a.d).map(({ r }) => r);
    for (const record of records) {
      if (!g.images.get(record.id)) continue; // gone with an image pruned before it
      if (onlyDangling && !g.isDangling(record, parents)) continue;
      if (g.users.containersUsing(record.id).length > 0) continue;
      const config = await g.images.config(record.id);
      if (untilMs !== undefined && createdMs(config) >= untilMs) continue;
      const labels = config.config?.Labels ?? {};
      if (!labelsMatch(filters.get('label'), labels)) continue;
      if (filters.get('label!') && labelsMatch(filters.get('label!'), labels)) continue;
      try {
        deleted.push(...(await g.remove(record.id, true, false)));
      } catch (err) {
        // An image that is still a parent (its children are not all pruned) stays, as in dockerd.
        if ((err as { status?: number }).status !== 409) throw err;
      }
    }
    await g.collect();
    const layersAfter = new Set(g.layers.list().map((l) => l.chainId));
    let reclaimed = 0;
    for (const [chain, size] of layersBefore) if (!layersAfter.has(chain)) reclaimed += size;
    if (deleted.length > 0) g.publish('prune', '', { reclaimed: String(reclaimed) });
    return { ImagesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
  }
}

/** The image's container config with the keys dockerd always shows. */
function imageConfigView(config: ImageConfig): Record<string, unknown> {
  const c = config.config ?? {};
  return {
    ...c,
    User: c.User ?? '',
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    Entrypoint: c.Entrypoint ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Labels: c.Labels ?? null,
    OnBuild: c.OnBuild ?? null,
    Volumes: c.Volumes ?? null,
  };
}
