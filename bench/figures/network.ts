// The networkdriver's figures: an HTTP request through a port published on 127.0.0.1 against the
// same request straight to the container's address (the goal: within 1.1×), a 64 MiB download
// through the published port against dockerd's docker-proxy, and `docker run --rm busybox true`
// on the default bridge against dockerd. The server is busybox httpd in a container on each engine,
// serving the same host directory (bind-mounted read-only).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { Figure } from '../harness';
import { cliFloorMs, cliFloorNote } from '../cli-floor';
import { ensureFixtures } from '../../e2e/fixtures/fixtures';

const run = promisify(execFile);
const REQUESTS = 300;
const DOWNLOAD_BYTES = 64 * 1024 * 1024;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** One GET on a fresh connection (busybox httpd closes after each response); resolves with bytes read. */
function get(host: string, port: number, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host, port, path: `/${file}`, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length)).on('end', () => resolve(bytes)).on('error', reject);
    }).on('error', reject);
  });
}

interface Server {
  published: number;
  direct: string;
  stop(): Promise<void>;
}

let site: string | undefined;
function siteDir(): string {
  if (!site) {
    site = mkdtempSync(path.join(tmpdir(), 'berth-bench-www-'));
    writeFileSync(path.join(site, 'index.html'), 'hello\n');
    writeFileSync(path.join(site, 'big.bin'), Buffer.alloc(DOWNLOAD_BYTES, 0x5a));
    process.once('exit', () => rmSync(site!, { recursive: true, force: true }));
  }
  return site;
}

async function startServer(env: NodeJS.ProcessEnv, image: string): Promise<Server> {
  const port = await freePort();
  const name = `bench-httpd-${process.pid}-${port}`;
  await run('docker', ['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:80`, '-v', `${siteDir()}:/www:ro`, image, 'httpd', '-f', '-p', '80', '-h', '/www'], { env });
  const { stdout } = await run('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name], { env });
  const direct = stdout.trim();
  for (let i = 0; i < 100; i++) {
    if (await get('127.0.0.1', port, 'index.html').then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { published: port, direct, stop: async () => void (await run('docker', ['rm', '-f', name], { env }).catch(() => undefined)) };
}

async function berthImage(env: NodeJS.ProcessEnv): Promise<string> {
  const fixtures = await ensureFixtures();
  await run('docker', ['load', '-q', '-i', fixtures.busybox.dockerArchive], { env });
  return 'busybox:latest';
}

/**
 * Medians of requests through the published port and straight to the container, interleaved one
 * by one so that the machine's load (two cores, shared) weighs on both the same.
 */
async function latency(server: Server): Promise<{ published: number; direct: number }> {
  const samples = { published: [] as number[], direct: [] as number[] };
  for (let i = 0; i < 2 * REQUESTS + 40; i++) {
    const published = i % 2 === 0;
    const t0 = performance.now();
    await (published ? get('127.0.0.1', server.published, 'index.html') : get(server.direct, 80, 'index.html'));
    if (i >= 40) samples[published ? 'published' : 'direct'].push(performance.now() - t0);
  }
  const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  return { published: median(samples.published), direct: median(samples.direct) };
}

/** curl's download speed of the 64 MiB file through the published port, in MB/s. */
async function downloadOnce(server: Server): Promise<number> {
  const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{size_download} %{speed_download}', `http://127.0.0.1:${server.published}/big.bin`]);
  const [size, speed] = stdout.trim().split(' ').map(Number);
  if (size !== DOWNLOAD_BYTES) throw new Error(`downloaded ${size} bytes of ${DOWNLOAD_BYTES}`);
  return speed! / 1e6;
}

export const networkFigures: Figure[] = [
  {
    name: 'HTTP via published 127.0.0.1 port, vs direct to the container',
    unit: 'ms',
    better: 'lower',
    goal: 1.1,
    async measure({ berthd, reference }) {
      const server = await startServer(berthd.env, await berthImage(berthd.env));
      try {
        const berth = await latency(server);
        let note: string | undefined;
        if (reference) {
          const ref = await startServer(reference.env, 'busybox:ref');
          try {
            const r = await latency(ref);
            note = `(dockerd: ${r.published.toFixed(3)} ms published vs ${r.direct.toFixed(3)} ms direct)`;
          } finally {
            await ref.stop();
          }
        }
        return { berth: berth.published, baseline: berth.direct, baselineName: 'direct', note };
      } finally {
        await server.stop();
      }
    },
  },
  {
    name: '64 MiB download through a published port',
    unit: 'MB/s',
    better: 'higher',
    goal: 1,
    async measure({ berthd, reference }) {
      const server = await startServer(berthd.env, await berthImage(berthd.env));
      const ref = reference ? await startServer(reference.env, 'busybox:ref') : undefined;
      try {
        // Alternating runs: the same background load for both engines.
        const berth: number[] = [];
        const base: number[] = [];
        for (let i = 0; i < 5; i++) {
          berth.push(await downloadOnce(server));
          if (ref) base.push(await downloadOnce(ref));
        }
        const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
        return ref ? { berth: median(berth), baseline: median(base), baselineName: 'dockerd' } : { berth: median(berth) };
      } finally {
        await server.stop();
        await ref?.stop();
      }
    },
  },
  {
    name: 'docker run --rm busybox true, default bridge',
    unit: 'ms',
    better: 'lower',
    goal: 0.35,
    async measure({ berthd, reference }) {
      const image = await berthImage(berthd.env);
      const timed = async (env: NodeJS.ProcessEnv, img: string) => {
        const t0 = performance.now();
        await run('docker', ['run', '--rm', img, 'true'], { env });
        return performance.now() - t0;
      };
      await timed(berthd.env, image);
      if (reference) await timed(reference.env, 'busybox:ref');
      const berth: number[] = [];
      const base: number[] = [];
      for (let i = 0; i < 15; i++) {
        berth.push(await timed(berthd.env, image));
        if (reference) base.push(await timed(reference.env, 'busybox:ref'));
      }
      const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
      const baseline = reference ? median(base) : undefined;
      const note = cliFloorNote(await cliFloorMs(['run', '--rm', 'busybox', 'true'], 7), baseline);
      return reference ? { berth: median(berth), baseline, baselineName: 'dockerd', note } : { berth: median(berth), note };
    },
  },
];
