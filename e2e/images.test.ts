// Images end to end: the real docker CLI against a berthd on a temporary socket (load, images,
// inspect, history, tag, rmi, prune, save | load, import), hostile archives refused with nothing
// left behind, and interoperability with the reference dockerd in both directions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Headers } from 'tar-stream';
import { startBerthd, type Berthd } from './berthd';
import { startReferenceDockerd } from './reference';
import { ensureFixtures, type FixturePaths } from './fixtures/fixtures';
import { tarOf } from '../daemon/src/drivers/graph/test-tar';

const run = promisify(execFile);
type Env = { env: NodeJS.ProcessEnv };
const docker = (b: Env, ...args: string[]) => run('docker', args, { env: b.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
/** Runs docker and returns its failure (exit code and stderr); throws when it succeeded. */
async function dockerFails(b: Env, ...args: string[]): Promise<string> {
  try {
    await docker(b, ...args);
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
  throw new Error(`docker ${args.join(' ')} succeeded but should have failed`);
}
/** Pipes `input` (a file or the stdout of another docker command) into docker. */
function dockerPipe(b: Env, from: { env: NodeJS.ProcessEnv; args: string[] }, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const src = spawn('docker', from.args, { env: from.env, stdio: ['ignore', 'pipe', 'inherit'] });
    const dst = spawn('docker', args, { env: b.env, stdio: ['pipe', 'pipe', 'pipe'] });
    src.stdout.pipe(dst.stdin);
    let out = '';
    let err = '';
    dst.stdout.on('data', (d) => (out += d));
    dst.stderr.on('data', (d) => (err += d));
    dst.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`docker ${args.join(' ')}: ${err}`))));
  });
}

function api(socket: string, method: string, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: data }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

type Entry = Headers & { body?: Buffer | string };

/** A docker-save tarball of one image whose layers are the given tars (or raw layer bytes). */
async function saveArchive(tag: string, layers: Buffer[], opts: { diffIds?: string[]; blobName?: (i: number, layer: Buffer) => string } = {}): Promise<Buffer> {
  const diffIds = opts.diffIds ?? layers.map(sha);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const names = layers.map((l, i) => opts.blobName?.(i, l) ?? `blobs/sha256/${sha(l).slice(7)}`);
  const manifest = [{ Config: `blobs/sha256/${sha(config).slice(7)}`, RepoTags: [tag], Layers: names }];
  return tarOf([
    ...layers.map((l, i) => ({ name: names[i]!, body: l })),
    { name: `blobs/sha256/${sha(config).slice(7)}`, body: config },
    { name: 'manifest.json', body: JSON.stringify(manifest) },
  ]);
}

let berthd: Berthd;
let fixtures: FixturePaths;
let scratch: string;

beforeAll(async () => {
  fixtures = await ensureFixtures();
  berthd = await startBerthd();
  scratch = mkdtempSync(path.join(tmpdir(), 'berth-images-'));
});
afterAll(async () => {
  await berthd?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const ids = async (b: Env, name: string) => (await docker(b, 'image', 'inspect', '--format', '{{.Id}}', name)).stdout.trim();

describe('docker load, images, inspect, history', () => {
  it('loads a docker save tarball and an OCI layout tarball', async () => {
    const a = await docker(berthd, 'load', '-i', fixtures.busybox.dockerArchive);
    expect(a.stdout).toContain('Loaded image: busybox:latest');
    const b = await docker(berthd, 'load', '-i', fixtures.whiteout.ociArchive);
    expect(b.stdout).toContain('Loaded image: whiteout:latest');
    const { stdout } = await docker(berthd, 'images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}');
    expect(stdout).toMatch(/^busybox:latest [a-f0-9]{12}$/m);
    expect(stdout).toMatch(/^whiteout:latest [a-f0-9]{12}$/m);
  });

  it('inspect shows the config, the diff ids of the archive and the graph driver', async () => {
    const { stdout } = await docker(berthd, 'image', 'inspect', 'busybox');
    const [image] = JSON.parse(stdout);
    expect(image.RepoTags).toEqual(['busybox:latest']);
    expect(image.Config.Cmd).toEqual(['sh']);
    expect(image.Os).toBe('linux');
    expect(image.RootFS.Type).toBe('layers');
    expect(image.RootFS.Layers).toHaveLength(1);
    expect(image.Size).toBeGreaterThan(1_000_000);
    expect(['overlay2', 'vfs']).toContain(image.GraphDriver.Name);
    // The id is the digest of the config; docker.io/library/busybox:latest names the same image.
    expect(await ids(berthd, 'docker.io/library/busybox:latest')).toBe(image.Id);
    expect(await ids(berthd, image.Id.slice(7, 19))).toBe(image.Id);
    expect(await dockerFails(berthd, 'image', 'inspect', 'nosuchimage')).toMatch(/No such image: nosuchimage/);
  });

  it('history lists one row per history entry, newest first, with the instruction', async () => {
    const { stdout } = await docker(berthd, 'history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}', 'whiteout');
    const rows = stdout.trim().split('\n');
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^sha256:[a-f0-9]{64}\|berth fixtures: delete/);
    expect(rows[2]).toMatch(/^<missing>\|berth fixtures: busybox-static/);
  });

  it('docker images filters by reference, dangling and label, and formats as asked', async () => {
    const ref = await docker(berthd, 'images', '--format', '{{.Repository}}', '--filter', 'reference=busy*');
    expect(ref.stdout.trim().split('\n')).toEqual(['busybox']);
    const dangling = await docker(berthd, 'images', '-q', '--filter', 'dangling=true');
    expect(dangling.stdout.trim()).toBe('');
    expect(await dockerFails(berthd, 'images', '--filter', 'bogus=1')).toMatch(/invalid filter 'bogus'/);
    const json = await docker(berthd, 'images', '--format', 'json', 'busybox');
    expect(JSON.parse(json.stdout.trim().split('\n')[0]!)).toMatchObject({ Repository: 'busybox', Tag: 'latest' });
  });

  it('the layer browser shows what each layer added, modified and removed', async () => {
    const layers = JSON.parse((await api(berthd.socket, 'GET', '/berth/images/whiteout/layers')).body);
    expect(layers).toHaveLength(3);
    expect(layers[2].instruction).toContain('delete /data/deleted.txt');
    const page = JSON.parse((await api(berthd.socket, 'GET', '/berth/images/whiteout/layers/2/tree?path=/data')).body);
    const change = Object.fromEntries(page.entries.map((e: { name: string; change: string | null }) => [e.name, e.change]));
    expect(change).toEqual({ 'added.txt': 'added', 'deleted.txt': 'removed', dir: 'modified', 'gone-dir': 'removed', 'kept.txt': null });
    const opaque = JSON.parse((await api(berthd.socket, 'GET', '/berth/images/whiteout/layers/2/tree?path=/data/dir')).body);
    expect(opaque.entries.map((e: { name: string; change: string }) => `${e.name}:${e.change}`)).toEqual(['new.txt:added', 'old.txt:removed', 'sub:removed']);
    const paged = JSON.parse((await api(berthd.socket, 'GET', '/berth/images/busybox/layers/0/tree?path=/bin&offset=10&limit=5')).body);
    expect(paged.entries).toHaveLength(5);
    expect(paged.total).toBeGreaterThan(15);
    expect(paged.offset).toBe(10);
  });
});

describe('tag, rmi, prune', () => {
  it('tags an image under several names and removes names before the image', async () => {
    const id = await ids(berthd, 'busybox');
    await docker(berthd, 'tag', 'busybox', 'localhost:5000/team/box:1.0');
    await docker(berthd, 'tag', 'busybox', 'other');
    expect(await ids(berthd, 'localhost:5000/team/box:1.0')).toBe(id);
    expect(await dockerFails(berthd, 'tag', 'busybox', 'Bad:tag')).toMatch(/invalid reference format/);
    expect(await dockerFails(berthd, 'rmi', id.slice(7, 19))).toMatch(/must be forced\) - image is referenced in multiple repositories/);
    const untag = await docker(berthd, 'rmi', 'other');
    expect(untag.stdout.trim()).toBe('Untagged: other:latest');
    await docker(berthd, 'rmi', 'localhost:5000/team/box:1.0');
    expect(await ids(berthd, 'busybox')).toBe(id);
  });

  it('refuses to remove an image a container uses; forcing removes only the name', async () => {
    const id = await ids(berthd, 'busybox');
    await docker(berthd, 'tag', 'busybox', 'inuse:1');
    const ctr = (await docker(berthd, 'create', 'inuse:1', 'true')).stdout.trim();
    try {
      await docker(berthd, 'rmi', 'busybox'); // another name remains: only untagged
      expect(await dockerFails(berthd, 'rmi', 'inuse:1')).toMatch(new RegExp(`conflict: unable to remove repository reference "inuse:1" \\(must force\\) - container ${ctr.slice(0, 12)} is using its referenced image ${id.slice(7, 19)}`));
      expect(await dockerFails(berthd, 'rmi', id.slice(7, 19))).toMatch(/must be forced\) - image is being used by stopped container/);
      expect((await docker(berthd, 'rmi', '-f', 'inuse:1')).stdout.trim()).toBe('Untagged: inuse:1');
      expect((await docker(berthd, 'images', '-q', '--no-trunc', '--filter', 'dangling=true')).stdout.trim()).toBe(id);
      // Pruning keeps what a container uses.
      await docker(berthd, 'image', 'prune', '-f');
      expect(await ids(berthd, id)).toBe(id);
    } finally {
      await docker(berthd, 'rm', '-f', ctr);
      await docker(berthd, 'tag', id, 'busybox');
    }
  });

  it('import makes a one-layer image with the changes applied; a re-import leaves a dangling image that prune removes', async () => {
    const rootfs = await tarOf([{ name: 'hello.txt', body: 'hi\n' }, { name: 'bin/', type: 'directory', mode: 0o755 }]);
    const file = path.join(scratch, 'rootfs.tar');
    writeFileSync(file, rootfs);
    const first = await docker(berthd, 'import', '-c', 'CMD ["/bin/true"]', '-c', 'ENV A=b', '-c', 'LABEL team=berth', '-m', 'first import', file, 'imported:1');
    expect(first.stdout.trim()).toMatch(/^sha256:[a-f0-9]{64}$/);
    const [image] = JSON.parse((await docker(berthd, 'image', 'inspect', 'imported:1')).stdout);
    expect(image.Config.Cmd).toEqual(['/bin/true']);
    expect(image.Config.Env).toEqual(['A=b']);
    expect(image.Config.Labels).toEqual({ team: 'berth' });
    expect(image.RootFS.Layers).toEqual([sha(rootfs)]);
    const history = await docker(berthd, 'history', '--format', '{{.Comment}}', 'imported:1');
    expect(history.stdout.trim()).toBe('first import');
    const labelled = await docker(berthd, 'images', '-q', '--no-trunc', '--filter', 'label=team=berth');
    expect(labelled.stdout.trim()).toBe(image.Id);

    // The same tag again: the first image loses its name and becomes dangling.
    await new Promise((r) => setTimeout(r, 1100)); // a different `created` second, so a different id
    await docker(berthd, 'import', file, 'imported:1');
    const dangling = await docker(berthd, 'images', '-q', '--no-trunc', '--filter', 'dangling=true');
    expect(dangling.stdout.trim()).toBe(image.Id);
    const pruned = await docker(berthd, 'image', 'prune', '-f');
    expect(pruned.stdout).toContain(`deleted: ${image.Id}`);
    expect((await docker(berthd, 'images', '-q', '--filter', 'dangling=true')).stdout.trim()).toBe('');
    expect(await ids(berthd, 'imported:1')).not.toBe(image.Id);
  });

  it('publishes image events as dockerd does (tag, untag, delete, with the image named)', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    await docker(berthd, 'tag', 'busybox', 'evented:1');
    await docker(berthd, 'rmi', 'evented:1');
    const { stdout } = await docker(berthd, 'events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=image', '--filter', 'image=evented:1', '--format', '{{.Action}} {{.Actor.Attributes.name}}');
    expect(stdout.trim().split('\n')).toEqual(['tag evented:1', 'untag evented:1']);
  });

  it('system df counts images and their layers', async () => {
    const { stdout } = await docker(berthd, 'system', 'df', '--format', '{{json .}}');
    const images = JSON.parse(stdout.trim().split('\n')[0]!);
    expect(images.Type).toBe('Images');
    expect(Number(images.TotalCount)).toBeGreaterThanOrEqual(3);
  });
});

describe('save and load round trip', () => {
  it('keeps ids, tags and layer digests', async () => {
    const before = await Promise.all(['busybox', 'whiteout'].map(async (n) => JSON.parse((await docker(berthd, 'image', 'inspect', n)).stdout)[0]));
    const file = path.join(scratch, 'saved.tar');
    await docker(berthd, 'save', '-o', file, 'busybox', 'whiteout');
    await docker(berthd, 'rmi', 'busybox', 'whiteout');
    expect(await dockerFails(berthd, 'image', 'inspect', 'busybox')).toMatch(/No such image/);
    const out = await docker(berthd, 'load', '-i', file);
    expect(out.stdout).toContain('Loaded image: busybox:latest');
    expect(out.stdout).toContain('Loaded image: whiteout:latest');
    for (const old of before) {
      const [now] = JSON.parse((await docker(berthd, 'image', 'inspect', old.RepoTags[0])).stdout);
      expect(now.Id).toBe(old.Id);
      expect(now.RootFS.Layers).toEqual(old.RootFS.Layers);
    }
    // A pipe works as well as a file.
    const piped = await dockerPipe(berthd, { env: berthd.env, args: ['save', 'busybox'] }, ['load']);
    expect(piped).toContain('Loaded image: busybox:latest');
  });

  it('loads the 200 MB five-layer fixture with every layer', async () => {
    await docker(berthd, 'load', '-i', fixtures.multilayer.dockerArchive);
    const [image] = JSON.parse((await docker(berthd, 'image', 'inspect', 'multilayer')).stdout);
    expect(image.RootFS.Layers).toHaveLength(5);
    expect(image.Size).toBeGreaterThan(200 * 1024 * 1024);
  });
});

describe('hostile archives', () => {
  const contentOf = () => readdirSync(path.join(berthd.dataRoot, 'content', 'blobs', 'sha256')).sort();
  const layersOf = () => readdirSync(path.join(berthd.dataRoot, 'layers', 'overlay2')).concat(existsSync(path.join(berthd.dataRoot, 'layers', 'vfs')) ? readdirSync(path.join(berthd.dataRoot, 'layers', 'vfs')) : []).sort();
  const victim = () => path.join(scratch, 'victim');

  async function refused(name: string, archive: Buffer, message: RegExp): Promise<void> {
    const blobs = contentOf();
    const layers = layersOf();
    const images = (await docker(berthd, 'images', '-q', '--no-trunc')).stdout;
    const file = path.join(scratch, `${name}.tar`);
    writeFileSync(file, archive);
    expect(await dockerFails(berthd, 'load', '-i', file)).toMatch(message);
    expect((await docker(berthd, 'images', '-q', '--no-trunc')).stdout).toBe(images);
    // Garbage collection runs once the failed load ends.
    for (let i = 0; i < 50 && (contentOf().join() !== blobs.join() || layersOf().join() !== layers.join()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(contentOf()).toEqual(blobs);
    expect(layersOf()).toEqual(layers);
    expect(existsSync(victim())).toBe(false);
  }

  it('refuses a layer that climbs out with ../', async () => {
    const layer = await tarOf([{ name: `../../../../../../../../..${victim()}`, body: 'pwned' }]);
    await refused('dotdot', await saveArchive('evil:dotdot', [layer]), /refusing to unpack layer: entry .* points outside the layer/);
  });

  it('refuses a layer that writes through a symlink it planted', async () => {
    const layer = await tarOf([
      { name: 'escape', type: 'symlink', linkname: scratch },
      { name: 'escape/victim', body: 'pwned' },
    ]);
    await refused('symlink', await saveArchive('evil:symlink', [layer]), /refusing to unpack layer: .*not a directory/);
  });

  it('refuses a hardlink to a file outside the layer', async () => {
    const layer = await tarOf([{ name: 'h', type: 'link', linkname: '../../../../../../etc/passwd' }]);
    await refused('hardlink', await saveArchive('evil:hardlink', [layer]), /hardlink target .* points outside the layer/);
  });

  it('refuses a blob whose content does not match its digest', async () => {
    const layer = await tarOf([{ name: 'f', body: 'data' }]);
    const archive = await saveArchive('evil:digest', [layer], { blobName: () => `blobs/sha256/${'0'.repeat(64)}` });
    await refused('digest', archive, /does not match its digest/);
  });

  it('refuses a layer whose content is not the diff id its config names', async () => {
    const layer = await tarOf([{ name: 'f', body: 'data' }]);
    const archive = await saveArchive('evil:diffid', [layer], { diffIds: [sha('something else')], blobName: () => 'layer.tar' });
    await refused('diffid', archive, /layer digest mismatch/);
  });

  it('refuses a truncated archive', async () => {
    const layer = await tarOf([{ name: 'big', body: Buffer.alloc(200_000, 7) }]);
    const archive = await saveArchive('evil:truncated', [layer]);
    await refused('truncated', archive.subarray(0, 100_000), /truncated/);
  });

  it('refuses a tar bomb that claims more bytes than the disk has', async () => {
    // A PAX size record of 1 PB: refused from the header, before a byte is written.
    const header = await tarOf([{ name: 'bomb', body: '', pax: { size: String(2 ** 50) } } as Entry]);
    await refused('bomb', await saveArchive('evil:bomb', [header]), /does not fit in the .* bytes free on the data root/);
  });

  it('refuses an archive with no manifest', async () => {
    await refused('empty', await tarOf([{ name: 'hello.txt', body: 'hi' }]), /neither manifest.json nor index.json/);
  });
});

describe('interoperability with the reference dockerd', () => {
  let reference: ReturnType<typeof startReferenceDockerd>;
  beforeAll(() => {
    try {
      reference = startReferenceDockerd();
    } catch {
      reference = undefined;
    }
  }, 300_000);

  it('an image saved by berthd loads in dockerd with the same id, and the reverse', async (ctx) => {
    if (!reference) ctx.skip();
    const ref = reference!;
    const id = await ids(berthd, 'busybox');
    await run('docker', ['rmi', '-f', 'busybox:latest'], { env: ref.env }).catch(() => undefined);
    await dockerPipe(ref, { env: berthd.env, args: ['save', 'busybox'] }, ['load']);
    expect(await ids(ref, 'busybox')).toBe(id);

    const refId = await ids(ref, 'busybox:ref');
    await dockerPipe(berthd, { env: ref.env, args: ['save', 'busybox:ref'] }, ['load']);
    expect(await ids(berthd, 'busybox:ref')).toBe(refId);
    const [a] = JSON.parse((await docker(berthd, 'image', 'inspect', 'busybox:ref')).stdout);
    const [b] = JSON.parse((await docker(ref, 'image', 'inspect', 'busybox:ref')).stdout);
    expect(a.RootFS.Layers).toEqual(b.RootFS.Layers);
    // Sizes are counted as dockerd counts them (files and symlinks, hardlinks once).
    expect(a.Size).toBe(b.Size);
    expect(a.Config.Cmd).toEqual(b.Config.Cmd);
    await run('docker', ['rmi', 'busybox:latest'], { env: ref.env }).catch(() => undefined);
  });
});

describe('the vfs driver, chosen by configuration or as the fallback', () => {
  let vfs: Berthd;
  let overlayRoot: string | undefined;
  beforeAll(async () => {
    vfs = await startBerthd({ extraArgs: ['--storage-driver', 'vfs'] });
  });
  afterAll(async () => {
    await vfs?.stop();
    if (overlayRoot) {
      await run('umount', [path.join(overlayRoot, 'merged')]).catch(() => undefined);
      rmSync(overlayRoot, { recursive: true, force: true });
    }
  });

  it('loads, browses and saves images with the same ids as overlay', async () => {
    const info = await docker(vfs, 'info', '--format', '{{.Driver}}');
    expect(info.stdout.trim()).toBe('vfs');
    await docker(vfs, 'load', '-i', fixtures.whiteout.dockerArchive);
    expect(await ids(vfs, 'whiteout')).toBe(await ids(berthd, 'whiteout'));
    const page = JSON.parse((await api(vfs.socket, 'GET', '/berth/images/whiteout/layers/2/tree?path=/data&changes=1')).body);
    expect(page.entries.map((e: { name: string; change: string }) => `${e.name}:${e.change}`)).toEqual(['added.txt:added', 'deleted.txt:removed', 'dir:modified', 'gone-dir:removed']);
    const out = await dockerPipe(berthd, { env: vfs.env, args: ['save', 'whiteout'] }, ['load']);
    expect(out).toContain('Loaded image: whiteout:latest');
  });

  it('falls back to vfs when overlay cannot mount on the data root, and refuses overlay2 when asked for it', async () => {
    overlayRoot = mkdtempSync(path.join(tmpdir(), 'berth-on-overlay-'));
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(path.join(overlayRoot, d));
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${overlayRoot}/lower,upperdir=${overlayRoot}/upper,workdir=${overlayRoot}/work`, path.join(overlayRoot, 'merged')]);
    const dataRoot = path.join(overlayRoot, 'merged', 'root');
    const fallback = await startBerthd({ dataRoot });
    try {
      expect((await docker(fallback, 'info', '--format', '{{.Driver}}')).stdout.trim()).toBe('vfs');
      expect(fallback.logs()).toMatch(/overlay is unavailable, using vfs/);
    } finally {
      await fallback.stop();
    }
    await expect(startBerthd({ dataRoot, extraArgs: ['--storage-driver', 'overlay2'] })).rejects.toThrow(/overlay2 cannot mount/);
  });
});

