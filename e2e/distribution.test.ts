// docker pull and push against berthd with a real registry (Debian's docker-registry on loopback),
// compared with the reference dockerd pulling from the same registry where it is available; and
// the failures a registry and a network can cause: unknown tags, corrupt blobs, cut connections,
// cancelled pulls. Nothing may leave half an image behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureFixtures, freePort, startRegistry, type FixturePaths, type Registry } from './fixtures/fixtures';
import { startBerthd, type Berthd } from './berthd';
import { startReferenceDockerd } from './reference';
import { startRegistryProxy } from './registry-proxy';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function docker(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('docker', args, { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** POST /images/create on a socket: the JSON lines, parsed. */
function apiPull(socket: string, image: string, tag = 'latest', signal?: AbortSignal, onLine?: (m: Record<string, unknown>) => void): Promise<{ status: number; lines: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: 'POST', path: `/v1.41/images/create?fromImage=${encodeURIComponent(image)}&tag=${tag}`, signal }, (res) => {
      let buf = '';
      const lines: Record<string, unknown>[] = [];
      res.on('data', (d: Buffer) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (line) {
            const m = JSON.parse(line) as Record<string, unknown>;
            lines.push(m);
            onLine?.(m);
          }
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, lines }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function apiGet(socket: string, p: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath: socket, path: p }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    }).on('error', reject);
  });
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Blobs and layers on berthd's disk, to prove a failed pull left nothing. */
function stored(berthd: Berthd): { blobs: string[]; layers: string[]; ingest: string[] } {
  const list = (p: string) => (existsSync(p) ? readdirSync(p).sort() : []);
  return {
    blobs: list(path.join(berthd.dataRoot, 'content', 'blobs', 'sha256')),
    ingest: list(path.join(berthd.dataRoot, 'content', 'ingest')),
    layers: list(path.join(berthd.dataRoot, 'layers', 'meta')),
  };
}

/** An OCI layout whose index serves busybox as linux/amd64 and hello as linux/arm64/v8. */
function buildMultiPlatformLayout(fixtures: FixturePaths, dir: string): { amd64Config: string; arm64Config: string } {
  const entries: { mediaType: string; digest: string; size: number; platform: Record<string, string> }[] = [];
  const configs: string[] = [];
  for (const [name, platform] of [['busybox', { architecture: 'amd64', os: 'linux' }], ['hello', { architecture: 'arm64', os: 'linux', variant: 'v8' }]] as const) {
    const layout = fixtures[name].ociLayout;
    cpSync(path.join(layout, 'blobs'), path.join(dir, 'blobs'), { recursive: true });
    const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; size: number; mediaType: string }[] };
    const m = index.manifests[0]!;
    const manifest = JSON.parse(readFileSync(path.join(layout, 'blobs', 'sha256', m.digest.slice(7)), 'utf8')) as { config: { digest: string } };
    configs.push(manifest.config.digest);
    entries.push({ mediaType: m.mediaType, digest: m.digest, size: m.size, platform });
  }
  const nested = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries }));
  writeFileSync(path.join(dir, 'blobs', 'sha256', sha(nested).slice(7)), nested);
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha(nested), size: nested.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
  }));
  return { amd64Config: configs[0]!, arm64Config: configs[1]! };
}

/** Pushes an image of one small layer no engine has seen (a random file) as `ref`. */
async function pushUniqueImage(temp: string, ref: string): Promise<void> {
  const dir = mkdtempSync(path.join(temp, 'unique-'));
  const root = path.join(dir, 'rootfs');
  mkdirSync(root);
  writeFileSync(path.join(root, 'random.bin'), randomBytes(300_000));
  const tar = execFileSync('tar', ['-C', root, '--owner=0', '--group=0', '--numeric-owner', '-c', 'random.bin']);
  const layer = gzipSync(tar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(tar)] } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
  }));
  const layout = path.join(dir, 'layout');
  mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  for (const blob of [layer, config, manifest]) writeFileSync(path.join(layout, 'blobs', 'sha256', sha(blob).slice(7)), blob);
  writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }));
  await new Promise<void>((resolve, reject) => execFile('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${ref}:latest`], (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve())));
}

/** The (id, status) pairs of a pull without byte progress, which depends on timing. */
const statuses = (lines: Record<string, unknown>[]) => lines.filter((l) => !l.progressDetail || !(l.progressDetail as { total?: number }).total).map((l) => `${l.id ?? ''} ${l.status ?? l.error}`);

describe('distribution: docker pull and push against a local registry', () => {
  let fixtures: FixturePaths;
  let registry: Registry;
  let berthd: Berthd;
  let reference: { socket: string; env: NodeJS.ProcessEnv } | undefined;
  let multi: { amd64Config: string; arm64Config: string };
  const temp = mkdtempSync(path.join(tmpdir(), 'berth-dist-'));
  const keptDirs: string[] = [];
  /** What the tests pulled into the shared reference dockerd, removed at the end. */
  const referenceImages: string[] = [];
  let R: string;

  beforeAll(async () => {
    fixtures = await ensureFixtures();
    registry = await startRegistry(undefined, { images: ['busybox', 'hello', 'multilayer', 'whiteout', 'debian'] });
    R = registry.address;
    const layout = path.join(temp, 'multi');
    multi = buildMultiPlatformLayout(fixtures, layout);
    await new Promise<void>((resolve, reject) => execFile('skopeo', ['copy', '--quiet', '--all', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${R}/multi:latest`], (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve())));
    berthd = await startBerthd();
    try {
      reference = startReferenceDockerd();
      if (reference) reference = { ...reference, env: { ...reference.env, DOCKER_CONFIG: path.join(temp, 'ref-docker-config') } };
    } catch {
      reference = undefined;
    }
  });

  afterAll(async () => {
    if (reference) for (const image of referenceImages) await docker(reference.env, 'rmi', image);
    await berthd?.stop();
    for (const d of keptDirs) rmSync(d, { recursive: true, force: true });
    await registry?.stop();
    rmSync(temp, { recursive: true, force: true });
  });

  it('pulls by tag with dockerd\'s progress messages, then finds the image up to date', async () => {
    const first = await apiPull(berthd.socket, `${R}/busybox`);
    expect(first.status).toBe(200);
    const lines = first.lines;
    expect(lines[0]).toEqual({ status: 'Pulling from busybox', id: 'latest' });
    const layerIds = lines.filter((l) => l.status === 'Pulling fs layer').map((l) => l.id);
    expect(layerIds.length).toBe(1);
    for (const id of layerIds) {
      for (const s of ['Pulling fs layer', 'Download complete', 'Pull complete']) expect(lines).toContainEqual({ status: s, progressDetail: {}, id });
    }
    // Byte progress carries docker's bar: "[====>    ]  1.2MB/3.4MB".
    const downloading = lines.filter((l) => l.status === 'Downloading');
    expect(downloading.length).toBeGreaterThan(0);
    for (const d of downloading) expect(d.progress).toMatch(/^\[=*>? *\] +[\d.]+[kMG]?B\/[\d.]+[kMG]?B$/);
    const last = downloading[downloading.length - 1]!.progressDetail as { current: number; total: number };
    expect(last.current).toBe(last.total);
    const digest = (lines.at(-2)!.status as string).replace('Digest: ', '');
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(lines.at(-1)).toEqual({ status: `Status: Downloaded newer image for ${R}/busybox:latest` });

    const again = await apiPull(berthd.socket, `${R}/busybox`);
    expect(again.lines).toEqual([
      { status: 'Pulling from busybox', id: 'latest' },
      { status: `Digest: ${digest}` },
      { status: `Status: Image is up to date for ${R}/busybox:latest` },
    ]);

    const inspect = await docker(berthd.env, 'image', 'inspect', '-f', '{{json .RepoDigests}} {{json .RepoTags}}', `${R}/busybox`);
    expect(inspect.stdout.trim()).toBe(`["${R}/busybox@${digest}"] ["${R}/busybox:latest"]`);

    if (reference) {
      // The reference dockerd, pulling the same image from the same registry, says the same. The
      // image is made for this run, so neither engine has any of it (and nothing of the shared
      // reference dockerd is removed).
      const unique = `${R}/unique-${randomBytes(4).toString('hex')}`;
      await pushUniqueImage(temp, unique);
      const ours = await apiPull(berthd.socket, unique);
      const theirs = await apiPull(reference.socket, unique);
      referenceImages.push(unique);
      // Each kind of message has the same fields in the same order.
      const kind = (l: Record<string, unknown>) => String(l.status).replace(/sha256:[a-f0-9]{64}|for .*/, '');
      const shapes = (ls: Record<string, unknown>[]) => new Map(ls.map((l) => [kind(l), Object.keys(l).join(',')]));
      const oursShapes = shapes(ours.lines);
      const theirShapes = shapes(theirs.lines);
      for (const k of ['Pulling from ' + unique.slice(R.length + 1), 'Pulling fs layer', 'Downloading', 'Download complete', 'Extracting', 'Pull complete', 'Digest: ', 'Status: Downloaded newer image ']) {
        expect([k, oursShapes.get(k)]).toEqual([k, theirShapes.get(k)]);
      }
      // The same statuses in the same order, but for the timing-dependent ones.
      const essential = (ls: Record<string, unknown>[]) => statuses(ls).filter((st) => !/Verifying Checksum|Waiting/.test(st));
      expect(essential(ours.lines)).toEqual(essential(theirs.lines));
      expect((await apiPull(berthd.socket, unique)).lines).toEqual((await apiPull(reference.socket, unique)).lines);
    }
  });

  it('pulls by digest and with --platform from a multi-platform index', async () => {
    const arm = await docker(berthd.env, 'pull', '--platform', 'linux/arm64', `${R}/multi`);
    expect(arm.stderr).toBe('');
    expect(arm.code).toBe(0);
    expect((await docker(berthd.env, 'image', 'inspect', '-f', '{{.Id}}', `${R}/multi`)).stdout.trim()).toBe(multi.arm64Config);

    const host = await docker(berthd.env, 'pull', `${R}/multi`);
    expect(host.code).toBe(0);
    expect(host.stdout).toContain(`Status: Downloaded newer image for ${R}/multi:latest`);
    expect((await docker(berthd.env, 'image', 'inspect', '-f', '{{.Id}}', `${R}/multi`)).stdout.trim()).toBe(multi.amd64Config);

    const listDigest = /Digest: (sha256:[a-f0-9]{64})/.exec(host.stdout)![1]!;
    const byDigest = await docker(berthd.env, 'pull', `${R}/multi@${listDigest}`);
    expect(byDigest.code).toBe(0);
    expect(byDigest.stdout).toContain(`Status: Image is up to date for ${R}/multi@${listDigest}`);

    const dist = await apiGet(berthd.socket, `/v1.51/distribution/${R}/multi/json`);
    expect(dist.status).toBe(200);
    expect(dist.body).toEqual({
      Descriptor: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: listDigest, size: expect.any(Number) },
      Platforms: [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux', variant: 'v8' }],
    });
    const none = await docker(berthd.env, 'pull', '--platform', 'linux/s390x', `${R}/multi`);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('no matching manifest for linux/s390x in the manifest list entries');
  });

  it('answers an unknown tag and an absent registry as dockerd does', async () => {
    const res = await docker(berthd.env, 'pull', `${R}/busybox:nope`);
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim()).toBe(`Error response from daemon: manifest for ${R}/busybox:nope not found: manifest unknown: manifest unknown`);
    if (reference) expect(res.stderr).toBe((await docker(reference.env, 'pull', `${R}/busybox:nope`)).stderr);
    // Nothing listens there: HTTPS, then plain HTTP (loopback is insecure) are refused.
    const port = await freePort();
    const refused = await docker(berthd.env, 'pull', `127.0.0.1:${port}/x`);
    expect(refused.stderr.trim()).toBe(`Error response from daemon: Get "http://127.0.0.1:${port}/v2/": dial tcp 127.0.0.1:${port}: connect: connection refused`);
    if (reference) expect(refused.stderr).toBe((await docker(reference.env, 'pull', `127.0.0.1:${port}/x`)).stderr);
  });

  it('pushes an imported image, mounts a pulled one, and pulls both back after rmi', async () => {
    writeFileSync(path.join(temp, 'hello.txt'), 'pushed by berthd\n');
    const imp = await new Promise<Run>((resolve) => {
      const child = execFile('docker', ['import', '-', `${R}/pushed:v1`], { env: berthd.env }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
      execFile('tar', ['-C', temp, '-c', 'hello.txt']).stdout!.pipe(child.stdin!);
    });
    expect(imp.stderr).toBe('');
    const id = imp.stdout.trim();
    const push = await docker(berthd.env, 'push', `${R}/pushed:v1`);
    expect(push.stderr).toBe('');
    const pushLines = push.stdout.trim().split('\n');
    expect(pushLines[0]).toBe(`The push refers to repository [${R}/pushed]`);
    expect(pushLines).toContainEqual(expect.stringMatching(/^[a-f0-9]{12}: Preparing$/));
    expect(pushLines).toContainEqual(expect.stringMatching(/^[a-f0-9]{12}: Pushed$/));
    expect(pushLines.at(-1)).toMatch(/^v1: digest: sha256:[a-f0-9]{64} size: \d+$/);
    expect((await docker(berthd.env, 'push', `${R}/pushed:v1`)).stdout).toMatch(/: Layer already exists\n/);

    expect((await docker(berthd.env, 'rmi', `${R}/pushed:v1`)).code).toBe(0);
    const back = await docker(berthd.env, 'pull', `${R}/pushed:v1`);
    expect(back.code).toBe(0);
    expect((await docker(berthd.env, 'image', 'inspect', '-f', '{{.Id}}', `${R}/pushed:v1`)).stdout.trim()).toBe(id);

    // A pulled image pushed to another repository of the same registry is mounted, not uploaded.
    expect((await docker(berthd.env, 'tag', `${R}/busybox`, `${R}/copy:v2`)).code).toBe(0);
    const mount = await docker(berthd.env, 'push', `${R}/copy:v2`);
    expect(mount.stdout).toMatch(/: Mounted from busybox\n/);
    // Seen under another name (the proxy's address), the registry has nothing to mount: the pulled
    // layer is compressed again from what berthd kept of it, uploaded, and pulls back the same.
    const proxy = await startRegistryProxy(R);
    try {
      expect((await docker(berthd.env, 'tag', `${R}/busybox`, `${proxy.address}/recompressed:v1`)).code).toBe(0);
      const upload = await docker(berthd.env, 'push', `${proxy.address}/recompressed:v1`);
      expect(upload.stderr).toBe('');
      expect(upload.stdout).toMatch(/: Pushed\n/);
      expect((await docker(berthd.env, 'rmi', `${proxy.address}/recompressed:v1`)).code).toBe(0);
    } finally {
      await proxy.close();
    }
    expect((await docker(berthd.env, 'rmi', `${R}/busybox`, `${R}/copy:v2`)).code).toBe(0);
    expect((await docker(berthd.env, 'pull', `${R}/recompressed:v1`)).code).toBe(0);
    expect((await docker(berthd.env, 'tag', `${R}/recompressed:v1`, `${R}/busybox`)).code).toBe(0);

    const pushedDigest = /digest: (sha256:[a-f0-9]{64})/.exec(mount.stdout)![1]!;
    const byDigest = await docker(berthd.env, 'pull', `${R}/copy@${pushedDigest}`);
    expect(byDigest.code).toBe(0);
    expect((await docker(berthd.env, 'image', 'inspect', '-f', '{{.Id}}', `${R}/copy@${pushedDigest}`)).stdout).toBe((await docker(berthd.env, 'image', 'inspect', '-f', '{{.Id}}', `${R}/busybox`)).stdout);
  });

  it('refuses a blob with the wrong digest and keeps nothing of the pull', async () => {
    const proxy = await startRegistryProxy(R);
    try {
      // hello came with the multi-platform index: remove it so its layers are downloaded again.
      await docker(berthd.env, 'rmi', '-f', multi.arm64Config);
      const manifest = await fetchManifest(R, 'hello');
      for (const l of manifest.layers) proxy.faults.set(l.digest, { kind: 'corrupt' });
      const before = stored(berthd);
      const res = await docker(berthd.env, 'pull', `${proxy.address}/hello`);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain(`filesystem layer verification failed for digest ${manifest.layers[0]!.digest}`);
      expect((await docker(berthd.env, 'image', 'inspect', `${proxy.address}/hello`)).code).not.toBe(0);
      expect(stored(berthd)).toEqual(before);
      // A large compressible layer: the flipped byte breaks gzip half-way through the blob, and
      // still the digest is what the pull reports, as dockerd (which verifies first) reports it.
      const debian = (await fetchManifest(R, 'debian')).layers[0]!;
      proxy.faults.set(debian.digest, { kind: 'corrupt' });
      const broken = await docker(berthd.env, 'pull', `${proxy.address}/debian`);
      expect(broken.code).not.toBe(0);
      expect(broken.stderr).toContain(`filesystem layer verification failed for digest ${debian.digest}`);
      expect((await docker(berthd.env, 'image', 'inspect', `${proxy.address}/debian`)).code).not.toBe(0);
      expect(stored(berthd)).toEqual(before);
    } finally {
      await proxy.close();
    }
  });

  it('resumes a layer whose connection was cut, and fails cleanly when it keeps being cut', async () => {
    const proxy = await startRegistryProxy(R);
    try {
      const manifest = await fetchManifest(R, 'hello');
      const layer = manifest.layers[0]!;
      proxy.faults.set(layer.digest, { kind: 'cut', after: Math.floor(layer.size / 2), times: 1 });
      const ok = await docker(berthd.env, 'pull', `${proxy.address}/hello`);
      expect(ok.stderr).toBe('');
      expect(ok.stdout).toContain('Pull complete');
      // The second request asks only for what the first did not deliver.
      const gets = proxy.blobGets.get(layer.digest)!;
      expect(gets.length).toBe(2);
      expect(gets[0]).toBeUndefined();
      const resumedAt = Number(/^bytes=(\d+)-$/.exec(gets[1]!)![1]);
      expect(resumedAt).toBeGreaterThan(0);
      expect(resumedAt).toBeLessThanOrEqual(Math.floor(layer.size / 2));
      expect((await docker(berthd.env, 'rmi', `${proxy.address}/hello`)).code).toBe(0);

      proxy.faults.set(layer.digest, { kind: 'cut', after: 10, times: 1000 });
      const before = stored(berthd);
      const bad = await docker(berthd.env, 'pull', `${proxy.address}/hello`);
      expect(bad.code).not.toBe(0);
      expect((await docker(berthd.env, 'image', 'inspect', `${proxy.address}/hello`)).code).not.toBe(0);
      expect(stored(berthd)).toEqual(before);
    } finally {
      await proxy.close();
    }
  });

  it('joins a second pull of the same image to the first: each layer is downloaded once', async () => {
    const proxy = await startRegistryProxy(R);
    try {
      const [a, b] = await Promise.all([apiPull(berthd.socket, `${proxy.address}/multilayer`), apiPull(berthd.socket, `${proxy.address}/multilayer`)]);
      for (const p of [a, b]) expect(p.lines.at(-1)).toEqual({ status: `Status: Downloaded newer image for ${proxy.address}/multilayer:latest` });
      const manifest = await fetchManifest(R, 'multilayer');
      for (const l of manifest.layers) expect(proxy.blobGets.get(l.digest)?.length).toBe(1);
      expect((await docker(berthd.env, 'rmi', `${proxy.address}/multilayer`)).code).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('cancels a pull whose client left, leaving no reference and nothing the next start keeps', async () => {
    const before = stored(berthd);
    const controller = new AbortController();
    const pulled = apiPull(berthd.socket, `${R}/multilayer`, 'latest', controller.signal, (m) => {
      if (m.status === 'Downloading') controller.abort();
    }).catch((err: Error) => err);
    expect(await pulled).toBeInstanceOf(Error);
    // The job ends as cancelled.
    let jobs: { name: string; state: string }[] = [];
    for (let i = 0; i < 100; i++) {
      jobs = (await apiGet(berthd.socket, '/berth/jobs')).body as typeof jobs;
      if (!jobs.some((j) => j.name === 'image.pull' && j.state === 'running')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(jobs.find((j) => j.name === 'image.pull')?.state).toBe('cancelled');
    expect((await docker(berthd.env, 'image', 'inspect', `${R}/multilayer`)).code).not.toBe(0);
    // Restarted on the same state, berthd has exactly what it had before the pull.
    await berthd.stop({ keepState: true });
    keptDirs.push(berthd.dir);
    berthd = await startBerthd({ dataRoot: berthd.dataRoot });
    expect(stored(berthd)).toEqual(before);
  });

  it('survives a berthd killed mid-pull: the next start keeps nothing of it', async () => {
    const before = stored(berthd);
    let killed: Promise<unknown> | undefined;
    await apiPull(berthd.socket, `${R}/multilayer`, 'latest', undefined, (m) => {
      if (m.status === 'Downloading' && !killed) killed = berthd.stop({ keepState: true, signal: 'SIGKILL' });
    }).catch(() => undefined);
    await killed;
    keptDirs.push(berthd.dir);
    berthd = await startBerthd({ dataRoot: berthd.dataRoot });
    expect((await docker(berthd.env, 'image', 'inspect', `${R}/multilayer`)).code).not.toBe(0);
    expect(stored(berthd)).toEqual(before);
  });

  it('pulls every tag of a repository with -a, and says so in one last line', async () => {
    for (const tag of ['one', 'two']) {
      await new Promise<void>((resolve, reject) => execFile('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${fixtures.hello.ociLayout}:latest`, `docker://${R}/tags:${tag}`], (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve())));
    }
    const all = await docker(berthd.env, 'pull', '-a', `${R}/tags`);
    expect(all.stderr).toBe('');
    expect(all.stdout).toContain('one: Pulling from tags');
    expect(all.stdout).toContain('two: Pulling from tags');
    expect(all.stdout).toContain(`Status: Downloaded newer image for ${R}/tags\n`);
    const tags = await docker(berthd.env, 'images', '--format', '{{.Tag}}', `${R}/tags`);
    expect(tags.stdout.trim().split('\n').sort()).toEqual(['one', 'two']);
  });

  it('pulls layer by layer on vfs (each layer on its parent), with the same image id, and pushes back', async () => {
    const vfs = await startBerthd({ extraArgs: ['--storage-driver', 'vfs'] });
    try {
      const pulled = await docker(vfs.env, 'pull', `${R}/whiteout`);
      expect(pulled.stderr).toBe('');
      expect(pulled.stdout.match(/Pull complete/g)?.length).toBe(3);
      const id = (await docker(vfs.env, 'image', 'inspect', '-f', '{{.Id}}', `${R}/whiteout`)).stdout.trim();
      expect((await docker(berthd.env, 'pull', `${R}/whiteout`)).code).toBe(0);
      expect((await docker(berthd.env, 'image', 'inspect', '-f', '{{.Id}}', `${R}/whiteout`)).stdout.trim()).toBe(id);
      expect((await docker(vfs.env, 'tag', `${R}/whiteout`, `${R}/whiteout-vfs:1`)).code).toBe(0);
      const push = await docker(vfs.env, 'push', `${R}/whiteout-vfs:1`);
      expect(push.stderr).toBe('');
      expect(push.stdout.match(/Mounted from whiteout/g)?.length).toBe(3);
    } finally {
      await vfs.stop();
    }
  });

  it('pulls docker.io images through registry-mirrors, and publishes the pull event', async () => {
    await new Promise<void>((resolve, reject) => execFile('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${fixtures.busybox.ociLayout}:latest`, `docker://${R}/library/busybox:latest`], (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve())));
    const mirrored = await startBerthd({ config: { 'registry-mirrors': [`http://${R}`] } });
    try {
      const since = Math.floor(Date.now() / 1000) - 1;
      const pulled = await docker(mirrored.env, 'pull', 'busybox');
      expect(pulled.stderr).toBe('');
      expect(pulled.stdout).toContain('latest: Pulling from library/busybox');
      expect(pulled.stdout).toContain('Status: Downloaded newer image for busybox:latest');
      expect((await docker(mirrored.env, 'images', '--format', '{{.Repository}}:{{.Tag}}')).stdout.trim()).toBe('busybox:latest');
      const events = await docker(mirrored.env, 'events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--format', '{{.Type}} {{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "name"}}');
      expect(events.stdout).toContain('image pull busybox:latest busybox');
    } finally {
      await mirrored.stop();
    }
  });
});

async function fetchManifest(registry: string, name: string): Promise<{ layers: { digest: string; size: number }[] }> {
  const res = await fetch(`http://${registry}/v2/${name}/manifests/latest`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
  return (await res.json()) as { layers: { digest: string; size: number }[] };
}
