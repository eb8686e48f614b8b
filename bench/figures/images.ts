// The graph's figure: `docker load` of the 200 MB five-layer fixture, berthd against dockerd, as
// throughput (archive bytes per second of the whole CLI command). Each run starts with the image
// removed and the disk synced, so every layer is unpacked again and no writeback is inherited.
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
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

async function loadThroughput(env: NodeJS.ProcessEnv, archive: string): Promise<number> {
  const bytes = statSync(archive).size;
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await run('docker', ['rmi', '-f', 'multilayer:latest'], { env }).catch(() => undefined);
    await run('sync');
    const t0 = performance.now();
    await run('docker', ['load', '-q', '-i', archive], { env });
    samples.push(performance.now() - t0);
  }
  await run('docker', ['rmi', '-f', 'multilayer:latest'], { env }).catch(() => undefined);
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
      const archive = await multilayerArchive();
      const berth = await loadThroughput(berthd.env, archive);
      if (!reference) return { berth };
      return { berth, baseline: await loadThroughput(reference.env, archive), baselineName: 'dockerd' };
    },
  },
];
