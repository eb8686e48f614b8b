// The graph's figure: `docker load` of the 200 MB five-layer fixture, berthd against dockerd, as
// throughput (archive bytes per second of the whole CLI command). The fixture is first rewritten
// with a random file added to every layer, so its layers are new to both engines (an engine that
// already holds a layer, under any name, skips unpacking it). Each run starts with that image
// removed by id and the disk synced, so every layer is unpacked again and no writeback is inherited.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { finished } from 'node:stream/promises';
import { extract as tarExtract, pack as tarPack } from 'tar-stream';
import type { Figure } from '../harness';
import { repoRoot } from '../../e2e/berthd';

const run = promisify(execFile);
const RUNS = 3;

/** The fixture's docker-save tarball, built by e2e/fixtures/build-images.sh when missing. */
async function multilayerArchive(): Promise<string> {
  const file = path.join(process.env.BERTH_FIXTURES ?? '/var/cache/berth/fixtures', 'tar', 'multilayer.tar');
  if (!existsSync(file)) await run('bash', [path.join(repoRoot, 'e2e', 'fixtures', 'build-images.sh'), 'multilayer'], { maxBuffer: 16 << 20 });
  return file;
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

/** Copies a tar, entry by entry, with `extra` entries appended (null: drop the entry). */
async function rewriteTar(source: AsyncIterable<Buffer> | Iterable<Buffer>, sink: NodeJS.WritableStream, edit: (name: string, body: () => Promise<Buffer>) => Promise<Buffer | null | undefined>, extra: { name: string; body: Buffer }[]): Promise<void> {
  const x = tarExtract();
  const p = tarPack();
  p.pipe(sink as never);
  const feeding = (async () => {
    for await (const c of source) if (!x.write(c)) await new Promise((r) => x.once('drain', r));
    x.end();
  })();
  for await (const entry of x) {
    const h = entry.header;
    const replaced = await edit(h.name, () => readAll(entry as AsyncIterable<Buffer>));
    if (replaced === null) {
      entry.resume();
      continue;
    }
    if (replaced !== undefined) {
      await new Promise<void>((resolve, reject) => p.entry({ ...h, size: replaced.length }, replaced, (e) => (e ? reject(e) : resolve())));
      continue;
    }
    await new Promise<void>((resolve, reject) => {
      const out = p.entry(h, (e) => (e ? reject(e) : resolve()));
      (async () => {
        for await (const c of entry as AsyncIterable<Buffer>) if (!out.write(c)) await new Promise((r) => out.once('drain', r));
        out.end();
      })().catch(reject);
    });
  }
  await feeding;
  for (const e of extra) await new Promise<void>((resolve, reject) => p.entry({ name: e.name, size: e.body.length, mode: 0o644, mtime: new Date(0) }, e.body, (err) => (err ? reject(err) : resolve())));
  p.finalize();
  await finished(sink as never);
}

/**
 * The fixture with a random file added to every layer: same size and shape, layers nobody has.
 * Returns the new archive's path and its image id.
 */
async function freshVariant(fixture: string, dir: string): Promise<{ file: string; id: string }> {
  const salt = randomBytes(16).toString('hex');
  const diffIds = new Map<string, string>();
  // Pass 1: every layer tar rewritten to its own file, with its new digest.
  const layers = path.join(dir, 'layers');
  await run('mkdir', ['-p', layers]);
  let manifestText = '';
  const configs = new Map<string, Buffer>();
  await rewriteTar(createReadStream(fixture), createWriteStream('/dev/null'), async (name, body) => {
    if (name === 'manifest.json') manifestText = (await body()).toString();
    else if (name.endsWith('.json') && !name.includes('/')) configs.set(name, await body());
    else if (name.endsWith('.tar') && !name.includes('/')) {
      const out = path.join(layers, name);
      const layer = await body();
      const sink = createWriteStream(out);
      await rewriteTar([layer], sink, async () => undefined, [{ name: `salt-${salt}`, body: Buffer.from(salt) }]);
      diffIds.set(`sha256:${name.slice(0, -4)}`, `sha256:${createHash('sha256').update(await readAll(createReadStream(out))).digest('hex')}`);
    }
    // This pass only reads: nothing is copied.
    return null;
  }, []);
  const [manifest] = JSON.parse(manifestText) as { Config: string; Layers: string[] }[];
  const config = JSON.parse(configs.get(manifest!.Config)!.toString()) as { rootfs: { diff_ids: string[] } };
  config.rootfs.diff_ids = config.rootfs.diff_ids.map((d) => diffIds.get(d)!);
  const configBytes = Buffer.from(JSON.stringify(config));
  const id = createHash('sha256').update(configBytes).digest('hex');
  // Pass 2: the archive in docker save's layout, layers streamed from their files.
  const file = path.join(dir, 'fresh.tar');
  const p = tarPack();
  const sink = createWriteStream(file);
  p.pipe(sink);
  const layerNames: string[] = [];
  for (const diffId of config.rootfs.diff_ids) {
    const src = [...diffIds.entries()].find(([, v]) => v === diffId)![0];
    const layerFile = path.join(layers, `${src.slice(7)}.tar`);
    const name = `${diffId.slice(7)}.tar`;
    layerNames.push(name);
    await new Promise<void>((resolve, reject) => {
      const out = p.entry({ name, size: statSync(layerFile).size, mode: 0o644, mtime: new Date(0) }, (e) => (e ? reject(e) : resolve()));
      (async () => {
        for await (const c of createReadStream(layerFile)) if (!out.write(c)) await new Promise((r) => out.once('drain', r));
        out.end();
      })().catch(reject);
    });
  }
  const add = (name: string, body: Buffer) => new Promise<void>((resolve, reject) => p.entry({ name, size: body.length, mode: 0o644, mtime: new Date(0) }, body, (e) => (e ? reject(e) : resolve())));
  await add(`${id}.json`, configBytes);
  await add('manifest.json', Buffer.from(JSON.stringify([{ Config: `${id}.json`, RepoTags: [`bench-load:${salt.slice(0, 8)}`], Layers: layerNames }])));
  p.finalize();
  await finished(sink);
  rmSync(layers, { recursive: true, force: true });
  return { file, id: `sha256:${id}` };
}

async function loadThroughput(env: NodeJS.ProcessEnv, archive: string, id: string): Promise<number> {
  const bytes = statSync(archive).size;
  const samples: number[] = [];
  const remove = () => run('docker', ['rmi', '-f', id], { env }).catch(() => undefined);
  for (let i = 0; i < RUNS; i++) {
    await remove();
    await run('sync');
    const t0 = performance.now();
    await run('docker', ['load', '-q', '-i', archive], { env });
    samples.push(performance.now() - t0);
  }
  await remove();
  samples.sort((a, b) => a - b);
  const ms = samples[Math.floor(samples.length / 2)]!;
  return bytes / 1e6 / (ms / 1000);
}

export const imageFigures: Figure[] = [
  {
    name: 'docker load, 200 MB in 5 layers',
    unit: 'MB/s',
    better: 'higher',
    goal: 1.3,
    async measure({ berthd, reference }) {
      const dir = mkdtempSync(path.join(tmpdir(), 'berth-bench-load-'));
      try {
        const { file, id } = await freshVariant(await multilayerArchive(), dir);
        const berth = await loadThroughput(berthd.env, file, id);
        if (!reference) return { berth };
        return { berth, baseline: await loadThroughput(reference.env, file, id), baselineName: 'dockerd' };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
