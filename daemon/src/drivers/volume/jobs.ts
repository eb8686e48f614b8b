// The volumedriver's jobs: what the API's volume routes (and Berth's volume browser) ask the
// Engine to run.
import type { ReadStream } from 'node:fs';
import type { Engine } from '../../engine/engine';
import { invalidParameter } from '../../errors';
import type { VolumeManager, VolumeCreateRequest } from './manager';
import type { VolumeRecord, VolumeView } from './volume-driver';
import { listDirectory, openVolumeFile, type BrowsePage } from './browse';

export type VolumeFilters = Map<string, string[]>;

declare module '../../engine/engine' {
  interface JobTable {
    'volume.list': { args: { filters: VolumeFilters }; result: VolumeView[] };
    'volume.inspect': { args: { name: string }; result: VolumeView };
    'volume.create': { args: VolumeCreateRequest; result: VolumeView };
    'volume.remove': { args: { name: string; force: boolean }; result: void };
    'volume.prune': { args: { filters: VolumeFilters }; result: { VolumesDeleted: string[]; SpaceReclaimed: number } };
    'volume.browse': { args: { name: string; path: string; offset: number; limit: number }; result: BrowsePage };
    'volume.download': { args: { name: string; path: string }; result: { stream: ReadStream; size: number; name: string } };
  }
}

function labelTest(v: string, labels: Record<string, string>): boolean {
  const eq = v.indexOf('=');
  return eq < 0 ? v in labels : labels[v.slice(0, eq)] === v.slice(eq + 1);
}

export function volumeMatches(v: VolumeRecord, f: VolumeFilters): boolean {
  const any = (key: string, test: (x: string) => boolean) => {
    const values = f.get(key);
    return !values || values.length === 0 || values.some(test);
  };
  return any('name', (x) => v.Name.includes(x))
    && any('driver', (x) => x === v.Driver)
    && any('dangling', (x) => {
      if (!['true', '1', 'false', '0'].includes(x)) throw invalidParameter(`invalid filter 'dangling=${x}'`);
      return (x === 'true' || x === '1') === (v.refs.length === 0);
    })
    && (f.get('label') ?? []).every((x) => labelTest(x, v.Labels))
    && !(f.get('label!') ?? []).some((x) => labelTest(x, v.Labels));
}

export function registerVolumeJobs(engine: Engine, volumes: () => VolumeManager): void {
  engine.register('volume.list', async ({ args }) => volumes().list().filter((v) => volumeMatches(v, args.filters)).map((v) => volumes().view(v.Name)));
  engine.register('volume.inspect', async ({ args }) => volumes().view(args.name));
  engine.register('volume.create', async ({ args }) => volumes().create(args));
  engine.register('volume.remove', async ({ args }) => volumes().removeVolume(args.name, args.force));
  engine.register('volume.prune', async ({ args }) => {
    const all = (args.filters.get('all') ?? []).some((x) => x === 'true' || x === '1');
    const rest = new Map([...args.filters].filter(([k]) => k !== 'all'));
    return volumes().prune(all, (v) => !volumeMatches(v, rest));
  });
  engine.register('volume.browse', async ({ args }) => {
    const view = volumes().view(args.name);
    return listDirectory(view.Mountpoint, args.path, args.offset, args.limit);
  });
  engine.register('volume.download', async ({ args }) => openVolumeFile(volumes().view(args.name).Mountpoint, args.path));
}
