// Distribution's figures: `docker pull` and `docker push` of the 200 MB five-layer fixture over
// loopback to Debian's docker-registry, berthd against the reference dockerd in the same run.
// Each round starts from nothing: the image is removed (by id, so no layer stays) before a pull,
// and each push goes to a fresh empty registry (so nothing is found there or mounted).
import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startRegistry, type Registry } from '../../e2e/fixtures/fixtures';
import type { Figure } from '../harness';

const exec = promisify(execFile);
const ROUNDS = 3;

interface Engine {
  socket: string;
  env: NodeJS.ProcessEnv;
}

/** POST /images/create to the end of its stream; throws on an error line. */
function pull(socket: string, image: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: 'POST', path: `/v1.41/images/create?fromImage=${encodeURIComponent(image)}&tag=latest` }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => (res.statusCode === 200 && !text.includes('"error"') ? resolve() : reject(new Error(`pull of ${image} failed: ${text.slice(-300)}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Removes the image so the next pull downloads every layer. An engine that holds the same image
 * under other names (another test loaded the fixture) is not stripped of them: the figure fails.
 */
async function removeImage(engine: Engine, image: string): Promise<void> {
  const inspect = await exec('docker', ['image', 'inspect', '-f', '{{.Id}} {{json .RepoTags}}', image], { env: engine.env }).then((r) => r.stdout.trim(), () => '');
  if (!inspect) return;
  const space = inspect.indexOf(' ');
  const id = inspect.slice(0, space);
  const others = (JSON.parse(inspect.slice(space + 1)) as string[] | null ?? []).filter((t) => !t.startsWith(`${image}:`));
  if (others.length > 0) throw new Error(`the engine also holds ${image} as ${others.join(', ')}: its layers would not be downloaded; remove those names to measure`);
  await exec('docker', ['rmi', '-f', id], { env: engine.env }).catch(() => undefined);
}

/** Removes the names this figure gave (the image itself goes with its last name). */
async function untag(engines: [string, Engine][], image: string): Promise<void> {
  for (const [, engine] of engines) await exec('docker', ['rmi', image], { env: engine.env }).catch(() => undefined);
}

/** Bytes of the image's layer blobs as the registry serves them. */
async function layerBytes(registry: Registry, name: string): Promise<number> {
  const res = await fetch(`${registry.url}/v2/${name}/manifests/latest`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
  const manifest = (await res.json()) as { layers: { size: number }[] };
  return manifest.layers.reduce((n, l) => n + l.size, 0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

export const distributionFigures: Figure[] = [
  {
    name: 'docker pull of the 200 MB 5-layer image (loopback registry)',
    unit: 'MB/s',
    better: 'higher',
    goal: 1.3,
    async measure({ berthd, reference }) {
      const registry = await startRegistry(undefined, { images: ['multilayer'] });
      const image = `${registry.address}/multilayer`;
      const engines: [string, Engine][] = [['berthd', { socket: berthd.socket, env: berthd.env }]];
      if (reference) engines.push(['dockerd', reference]);
      try {
        const mb = (await layerBytes(registry, 'multilayer')) / 1e6;
        const times = new Map<string, number[]>(engines.map(([n]) => [n, []]));
        // Rounds alternate between the engines so that a busy moment of the machine hits both.
        for (let round = 0; round < ROUNDS; round++) {
          for (const [name, engine] of engines) {
            await removeImage(engine, image);
            times.get(name)!.push(await timed(() => pull(engine.socket, image)));
          }
        }
        return { berth: mb / median(times.get('berthd')!), baseline: reference ? mb / median(times.get('dockerd')!) : undefined };
      } finally {
        await untag(engines, image);
        await registry.stop();
      }
    },
  },
  {
    name: 'docker push of the 200 MB 5-layer image (loopback registry)',
    unit: 'MB/s',
    better: 'higher',
    goal: 1.0,
    async measure({ berthd, reference }) {
      const source = await startRegistry(undefined, { images: ['multilayer'] });
      const image = `${source.address}/multilayer`;
      const engines: [string, Engine][] = [['berthd', { socket: berthd.socket, env: berthd.env }]];
      if (reference) engines.push(['dockerd', reference]);
      try {
        const mb = (await layerBytes(source, 'multilayer')) / 1e6;
        for (const [, engine] of engines) await pull(engine.socket, image);
        const times = new Map<string, number[]>(engines.map(([n]) => [n, []]));
        for (let round = 0; round < ROUNDS; round++) {
          for (const [name, engine] of engines) {
            const target = await startRegistry(undefined, { images: [] });
            try {
              const pushed = `${target.address}/pushed:latest`;
              await exec('docker', ['tag', image, pushed], { env: engine.env });
              times.get(name)!.push(await timed(() => exec('docker', ['push', pushed], { env: engine.env, maxBuffer: 64 * 1024 * 1024 }).catch((err: { stderr?: string }) => {
                throw new Error(`${name}: docker push failed: ${err.stderr?.trim()}`);
              })));
              await exec('docker', ['rmi', pushed], { env: engine.env }).catch(() => undefined);
            } finally {
              await target.stop();
            }
          }
        }
        return { berth: mb / median(times.get('berthd')!), baseline: reference ? mb / median(times.get('dockerd')!) : undefined };
      } finally {
        await untag(engines, image);
        await source.stop();
      }
    },
  },
];
