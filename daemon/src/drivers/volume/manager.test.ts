// The volumedriver on a temporary data root: named and anonymous volumes, the local driver's mount
// options (real tmpfs and bind mounts, so root is needed), a container's mounts, the image's
// VOLUME content, references that block removal, and the browser's path safety.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { VolumeManager } from './manager';
import { listDirectory, openVolumeFile } from './browse';
import { isMounted } from '../graph/mounts';
import { Logger } from '../../log';

const root = mkdtempSync(path.join(tmpdir(), 'berth-volume-test-'));
const events: string[] = [];
const cid = (c: string): string => c.repeat(64);
const resolve = (ref: string): string => (ref.length === 64 ? ref : cid(ref));

function manager(): VolumeManager {
  return new VolumeManager({ dataRoot: path.join(root, 'data'), log: new Logger({ write: () => true }), publish: (action, name) => events.push(`${action} ${name.slice(0, 12)}`) });
}

describe('VolumeManager', () => {
  let v: VolumeManager;
  const rootfs = path.join(root, 'rootfs');
  const hostDir = path.join(root, 'host');

  beforeAll(() => {
    mkdirSync(path.join(rootfs, 'var/lib/app/sub'), { recursive: true });
    writeFileSync(path.join(rootfs, 'var/lib/app/seed.txt'), 'from the image\n');
    writeFileSync(path.join(rootfs, 'var/lib/app/sub/deep.txt'), 'deep\n');
    mkdirSync(hostDir);
    writeFileSync(path.join(hostDir, 'shared.txt'), 'host file\n');
    v = manager();
  });

  afterAll(async () => {
    await v.shutdown();
    rmSync(root, { recursive: true, force: true });
  });

  it('creates, lists and inspects named volumes; create is idempotent; names are checked', () => {
    const created = v.create({ Name: 'data1', Labels: { app: 'x' } });
    expect(created).toMatchObject({ Name: 'data1', Driver: 'local', Scope: 'local', Labels: { app: 'x' }, Mountpoint: path.join(root, 'data/volumes/data1/_data') });
    expect(v.create({ Name: 'data1' }).CreatedAt).toBe(created.CreatedAt);
    expect(events.filter((e) => e === 'create data1')).toHaveLength(1);
    expect(() => v.create({ Name: 'bad/name' })).toThrow(/includes invalid characters for a local volume name/);
    expect(() => v.create({ Name: 'x1', DriverOpts: { bogus: '1' } })).toThrow('create x1: invalid option key: "bogus"');
    expect(() => v.create({ Name: 'x2', Driver: 'nfs-plugin' })).toThrow(/plugin "nfs-plugin" not found/);
    expect(v.list().map((x) => x.Name)).toContain('data1');
    // A new manager reads the same records from disk.
    expect(manager().view('data1').Labels).toEqual({ app: 'x' });
  });

  it('mounts a container\'s volumes: named, anonymous from the image (filled), binds read-only, tmpfs', async () => {
    const points = await v.register({
      id: cid('a'),
      hostConfig: { Binds: ['data1:/data', `${hostDir}:/host:ro`], Mounts: [{ Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 1048576 } }] },
      volumes: { '/var/lib/app': {} },
    }, resolve);
    expect(points.map((p) => `${p.Type} ${p.Destination} ${p.RW}`).sort()).toEqual(['bind /host false', 'tmpfs /scratch true', 'volume /data true', 'volume /var/lib/app true']);
    const anon = points.find((p) => p.Destination === '/var/lib/app')!;
    expect(anon.Name).toMatch(/^[0-9a-f]{64}$/);

    const mounts = await v.prepare(cid('a'), rootfs);
    expect(mounts.find((m) => m.destination === '/host')).toEqual({ destination: '/host', type: 'bind', source: hostDir, options: ['rbind', 'ro', 'rprivate'] });
    expect(mounts.find((m) => m.destination === '/scratch')!.options).toContain('size=1048576');
    expect(readFileSync(path.join(anon.Source, 'seed.txt'), 'utf8')).toBe('from the image\n');
    expect(readFileSync(path.join(anon.Source, 'sub/deep.txt'), 'utf8')).toBe('deep\n');
    expect(events).toContain(`mount ${anon.Name!.slice(0, 12)}`);
    // In use: a volume referenced by a container cannot be removed.
    expect(() => v.removeVolume('data1')).toThrow(`remove data1: volume is in use - [${cid('a')}]`);
    expect(v.mounts(cid('a')).find((m) => m.Destination === '/data')).toEqual({ Type: 'volume', Name: 'data1', Source: path.join(root, 'data/volumes/data1/_data'), Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
  });

  it('--volumes-from copies the mount points, with a mode override', async () => {
    const points = await v.register({ id: cid('b'), hostConfig: { VolumesFrom: ['a:ro'] } }, resolve);
    expect(points.filter((p) => p.Type !== 'tmpfs').every((p) => !p.RW)).toBe(true);
    expect(points.map((p) => p.Destination).sort()).toEqual(['/data', '/host', '/var/lib/app']);
    await v.remove(cid('b'), true);
  });

  it('data survives the container; rm -v removes only the anonymous volumes', async () => {
    const data = v.mounts(cid('a')).find((m) => m.Destination === '/data')!.Source;
    writeFileSync(path.join(data, 'kept.txt'), 'kept');
    const anon = v.mounts(cid('a')).find((m) => m.Destination === '/var/lib/app')!.Name!;
    await v.release(cid('a'));
    await v.remove(cid('a'), true);
    expect(v.list().map((x) => x.Name)).not.toContain(anon);
    expect(readFileSync(path.join(v.view('data1').Mountpoint, 'kept.txt'), 'utf8')).toBe('kept');
    // A new container sees the data, and a nocopy or non-empty volume is not refilled.
    await v.register({ id: cid('c'), hostConfig: { Binds: ['data1:/var/lib/app'] } }, resolve);
    await v.prepare(cid('c'), rootfs);
    expect(existsSync(path.join(v.view('data1').Mountpoint, 'seed.txt'))).toBe(false);
    await v.release(cid('c'));
    await v.remove(cid('c'), false);
  });

  it('mounts tmpfs and bind volumes from the local driver\'s options, and unmounts them on release', async () => {
    v.create({ Name: 'ram', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=2m' } });
    v.create({ Name: 'hostbind', DriverOpts: { type: 'none', o: 'bind', device: hostDir } });
    expect(() => v.create({ Name: 'nodev', DriverOpts: { o: 'bind', device: path.join(root, 'missing') } })).toThrow(/no such file or directory/);
    await v.register({ id: cid('d'), hostConfig: { Binds: ['ram:/ram', 'hostbind:/hb'] } }, resolve);
    await v.prepare(cid('d'), rootfs);
    expect(isMounted(v.view('ram').Mountpoint)).toBe(true);
    expect(readFileSync(path.join(v.view('hostbind').Mountpoint, 'shared.txt'), 'utf8')).toBe('host file\n');
    await v.release(cid('d'));
    expect(isMounted(v.view('ram').Mountpoint)).toBe(false);
    expect(isMounted(v.view('hostbind').Mountpoint)).toBe(false);
    await v.remove(cid('d'), false);
  });

  it('rejects bad specs with dockerd\'s words', async () => {
    await expect(v.register({ id: cid('e'), hostConfig: { Binds: ['data1:relative'] } }, resolve)).rejects.toThrow(/mount path must be absolute/);
    await expect(v.register({ id: cid('e'), hostConfig: { Binds: ['data1:/x:bogus'] } }, resolve)).rejects.toThrow('invalid mode: bogus');
    await expect(v.register({ id: cid('e'), hostConfig: { Binds: ['data1:/x', `${hostDir}:/x`] } }, resolve)).rejects.toThrow('Duplicate mount point: /x');
    await expect(v.register({ id: cid('e'), hostConfig: { Mounts: [{ Type: 'bind', Source: path.join(root, 'nope'), Target: '/x' }] } }, resolve)).rejects.toThrow(/bind source path does not exist/);
    expect(v.list().find((x) => x.Name === 'data1')!.refs).toEqual([]);
  });

  it('browses a volume page by page and never leaves it', async () => {
    const data = v.view('data1').Mountpoint;
    mkdirSync(path.join(data, 'dir'));
    for (let i = 0; i < 5; i++) writeFileSync(path.join(data, `f${i}.txt`), 'x'.repeat(i));
    symlinkSync('/etc', path.join(data, 'escape'));
    const first = await listDirectory(data, '/', 0, 3);
    expect(first.total).toBe(8);
    expect(first.entries.map((e) => e.name)).toEqual(['dir', 'escape', 'f0.txt']);
    const second = await listDirectory(data, '/', 3, 3);
    expect(second.entries.map((e) => e.name)).toEqual(['f1.txt', 'f2.txt', 'f3.txt']);
    expect(first.entries[1]).toMatchObject({ type: 'symlink', target: '/etc' });
    await expect(listDirectory(data, '/escape', 0, 10)).rejects.toMatchObject({ status: 403 });
    await expect(listDirectory(data, '../../..', 0, 10)).resolves.toMatchObject({ path: '/' });
    await expect(openVolumeFile(data, 'escape/passwd')).rejects.toMatchObject({ status: 403 });
    const file = await openVolumeFile(data, 'f4.txt');
    let body = '';
    for await (const chunk of file.stream) body += String(chunk);
    expect(body).toBe('xxxx');
  });

  it('prunes unused anonymous volumes, and named ones with all', async () => {
    await v.register({ id: cid('f'), hostConfig: {}, volumes: { '/anon': {} } }, resolve);
    const anon = v.mounts(cid('f'))[0]!.Name!;
    await v.remove(cid('f'), false);
    // kept.txt (4) + f0…f4 (0+1+2+3+4) + the symlink (4 bytes: "/etc").
    expect((await v.usage()).find((x) => x.Name === 'data1')!.UsageData).toEqual({ Size: 18, RefCount: 0 });
    const pruned = await v.prune(false, () => false);
    expect(pruned.VolumesDeleted).toEqual([anon]);
    const all = await v.prune(true, (x) => x.Name === 'hostbind');
    expect(all.VolumesDeleted.sort()).toEqual(['data1', 'ram']);
    expect(v.list().map((x) => x.Name)).toEqual(['hostbind']);
  });
});
