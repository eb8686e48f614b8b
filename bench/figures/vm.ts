// The VM's figures: boot to berthd's first /_ping through the host socket (qemu, TCG here) against
// the same boot serving a bare Node server in berthd's place, an API round trip through the host
// socket (the path published ports take too: hostfwd, the guest's network) against berthd on the
// host, and the size of the image.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { imageFromDir, vmPaths } from '../../app/main/vm/config';
import { VmManager } from '../../app/main/vm/manager';
import { QemuBackend } from '../../app/main/vm/qemu';
import { repoRoot } from '../../e2e/berthd';
import { medianMs, type Figure } from '../harness';

const imageDir = path.join(repoRoot, 'vm-image', 'out');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function get(socketPath: string, urlPath = '/_ping'): Promise<void> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath, path: urlPath, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    }).on('error', reject);
  });
}

function buildImage(): void {
  execFileSync('bash', [path.join(repoRoot, 'vm-image', 'build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The guest path of the bare Node server the floor boots serve (installed by vm-image/build.sh). */
const PING_FLOOR = '/usr/lib/berth/ping-floor.cjs';

function bootingManager(name: string, backend = new QemuBackend()): VmManager {
  return new VmManager({
    name, stateDir: mkdtempSync(path.join(tmpdir(), 'berth-vm-bench-')), image: imageFromDir(imageDir),
    resources: { cpus: 2, memoryMiB: 2048, diskGiB: 8 }, shares: [], stopTimeoutSec: 20, bootTimeoutSec: 120,
  }, backend);
}

/** The same boot with `true` in place of berthd: kernel, stage 1, berth-init, power-off. */
async function bootWithoutBerthdMs(stateDir: string): Promise<number> {
  const config = {
    name: 'bench', stateDir, image: imageFromDir(imageDir), resources: { cpus: 2, memoryMiB: 2048, diskGiB: 8 },
    shares: [], stopTimeoutSec: 20, bootTimeoutSec: 120,
  };
  const t0 = performance.now();
  const handle = await new QemuBackend({ exec: ['true'] }).start(config, vmPaths(stateDir));
  const timer = setTimeout(() => void handle.kill(), 120_000);
  await handle.exited;
  clearTimeout(timer);
  return performance.now() - t0;
}

export const vmFigures: Figure[] = [
  {
    name: 'VM boot to first /_ping (qemu, TCG)',
    unit: 's',
    better: 'lower',
    absoluteGoal: 3,
    async measure() {
      buildImage();
      // berthd's boots alternate with the same boots serving a bare Node server in its place
      // (vm-image/files/ping-floor.cjs): what any engine written for Node pays under this emulation
      const berth = bootingManager('bench');
      const floor = bootingManager('bench-floor', new QemuBackend({ engine: PING_FLOOR }));
      const boots: number[] = [];
      const ready: number[] = [];
      const floorBoots: number[] = [];
      try {
        // the first boot of each formats the data disk and fills node's compile cache: left out
        for (const m of [berth, floor]) {
          await m.start();
          await m.stop();
        }
        for (let i = 0; i < 3; i++) {
          const bootMs = (await berth.start()).bootMs!;
          // berthd answers /_ping before its components have opened and holds other requests until
          // they have: the first /version answer is when the engine is ready for work
          const t = performance.now();
          await get(berth.paths.apiSocket, '/version');
          boots.push(bootMs);
          ready.push(bootMs + performance.now() - t);
          await berth.stop();
          floorBoots.push((await floor.start()).bootMs!);
          await floor.stop();
        }
      } finally {
        for (const m of [berth, floor]) {
          await m.stop();
          rmSync(m.config.stateDir, { recursive: true, force: true });
        }
      }
      const bare: number[] = [];
      const bareDir = mkdtempSync(path.join(tmpdir(), 'berth-vm-bench-'));
      try {
        for (let i = 0; i < 3; i++) bare.push(await bootWithoutBerthdMs(bareDir));
      } finally {
        rmSync(bareDir, { recursive: true, force: true });
      }
      return {
        berth: median(boots) / 1000,
        baseline: median(floorBoots) / 1000,
        baselineName: 'the same boot serving a bare Node server',
        note: `engine ready (first GET /version) at ${(median(ready) / 1000).toFixed(2)} s; the same boot with no engine, to power-off: ${(median(bare) / 1000).toFixed(2)} s`,
      };
    },
  },
  {
    name: 'VM /_ping through the host socket (qemu, TCG)',
    unit: 'ms',
    better: 'lower',
    async measure({ berthd }) {
      buildImage();
      const dir = mkdtempSync(path.join(tmpdir(), 'berth-vm-bench-'));
      const manager = new VmManager({
        name: 'bench', stateDir: dir, image: imageFromDir(imageDir), resources: { cpus: 2, memoryMiB: 2048, diskGiB: 8 },
        shares: [], stopTimeoutSec: 20, bootTimeoutSec: 120,
      }, new QemuBackend());
      try {
        await manager.start();
        // each request on a fresh connection, as a published port's clients mostly are
        const inVm = await medianMs(() => get(manager.paths.apiSocket), 100, 10);
        const native = await medianMs(() => get(berthd.socket), 100, 10);
        return { berth: inVm, baseline: native, baselineName: 'berthd on the host' };
      } finally {
        await manager.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'VM image on disk (kernel + initrd + root)',
    unit: 'MiB',
    better: 'lower',
    async measure() {
      buildImage();
      const m = JSON.parse(readFileSync(path.join(imageDir, 'manifest.json'), 'utf8')) as { files: Record<string, { bytes: number; allocatedBytes?: number }> };
      const bytes = m.files.vmlinux!.bytes + m.files.initrd!.bytes + (m.files.rootfs!.allocatedBytes ?? m.files.rootfs!.bytes);
      return { berth: bytes / 2 ** 20, note: `root ${(m.files.rootfs!.bytes / 2 ** 20).toFixed(0)} MiB sparse, node alone ≈ 121 MiB` };
    },
  },
];
