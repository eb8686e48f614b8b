// The VM end to end, under TCG on this machine: build the image (cached), boot it with the qemu
// backend, reach berthd in the guest with the real docker CLI through the host socket, and power
// off cleanly; then the same through `berth vm` on the same data disk, with containers (a run, a
// shared folder, a published port on the host's loopback); an image self-test (shared folder, pure
// cgroup v2, runc and crun) through the diagnostics hook; the accelerator probe; a failed boot.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTscKhz, probeAccelerator } from '../app/main/vm/accelerator.js';
import { imageFromDir, vmPaths, type VmConfig } from '../app/main/vm/config.js';
import { freeLoopbackPort } from '../app/main/vm/free-port.js';
import { VmManager, type VmStatus } from '../app/main/vm/manager.js';
import { QemuBackend } from '../app/main/vm/qemu.js';
import { repoRoot } from './berthd.js';

const run = promisify(execFile);
const imageDir = path.join(repoRoot, 'vm-image', 'out');
const cli = path.join(repoRoot, 'dist', 'berth.mjs');
let dir = '';
let shared = '';
let manifest: { kernel: string };

function config(stateDir: string): VmConfig {
  return {
    name: 'e2e', stateDir, image: imageFromDir(imageDir), resources: { cpus: 2, memoryMiB: 1024, diskGiB: 4 },
    shares: [shared], stopTimeoutSec: 20, bootTimeoutSec: 120,
  };
}

/** Retries `fn` until it resolves (published ports appear and vanish a moment after the container). */
async function eventually<T>(fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function tcpPing(port: number): Promise<string> {
  return tcpGet(port, '/_ping');
}

function tcpGet(port: number, urlPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 10_000, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function hasExt4Superblock(file: string): boolean {
  const fd = openSync(file, 'r');
  const b = Buffer.alloc(2);
  readSync(fd, b, 0, 2, 1080);
  closeSync(fd);
  return b.readUInt16LE(0) === 0xef53;
}

beforeAll(() => {
  execFileSync('bash', [path.join(repoRoot, 'vm-image', 'build.sh')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 280_000 });
  manifest = JSON.parse(readFileSync(path.join(imageDir, 'manifest.json'), 'utf8'));
  dir = mkdtempSync(path.join(tmpdir(), 'berth-vm-e2e-'));
  shared = path.join(dir, 'shared folder');
  mkdirSync(shared);
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the VM under qemu', () => {
  it('boots, answers docker version through the host socket, and powers off cleanly', async () => {
    const stateDir = path.join(dir, 'state');
    const manager = new VmManager(config(stateDir), new QemuBackend());
    const paths = vmPaths(stateDir);
    try {
      const status = await manager.start();
      expect(status.state).toBe('running');
      expect(status.dockerHost).toBe(`unix://${paths.apiSocket}`);
      // this host's /dev/kvm is unusable (no vmx/svm): the choice must fall back to TCG
      if (!/\b(vmx|svm)\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))) expect(status.accelerator).toBe('tcg');
      process.stderr.write(`vm e2e: boot to first /_ping ${status.bootMs} ms (${status.accelerator})\n`);

      const { stdout } = await run('docker', ['version', '--format', '{{.Server.Platform.Name}}|{{.Server.KernelVersion}}|{{.Server.Os}}'], {
        env: { ...process.env, DOCKER_HOST: status.dockerHost },
      });
      // the guest's kernel, not this host's: the answer came from inside the VM
      expect(stdout.trim()).toBe(`Berth Engine|${manifest.kernel}|linux`);
      expect((await manager.status()).healthy).toBe(true);

      // `berth vm` sees the VM this process owns: start reports it, stop leaves it to its owner
      const cliArgs = ['--state-dir', stateDir, '--image', imageDir];
      expect((await run(process.execPath, [cli, 'vm', 'start', ...cliArgs])).stdout.trim()).toBe(status.dockerHost);
      const refused = await run(process.execPath, [cli, 'vm', 'stop', ...cliArgs]).then(() => undefined, (e: { code: number; stderr: string }) => e);
      expect(refused?.code).toBe(1);
      expect(refused?.stderr).toMatch(/the Berth app runs this VM/);
      expect(hasExt4Superblock(paths.dataDisk)).toBe(true); // formatted on first boot

      // published ports ride on QMP hostfwd rules: forward a spare host port to the guest's API listener
      const port = await freeLoopbackPort();
      const forward = { proto: 'tcp' as const, hostIp: '127.0.0.1', hostPort: port, guestPort: 2375 };
      await manager.addPortForward(forward);
      expect(await tcpPing(port)).toBe('OK');
      await manager.removePortForward(forward);
      await expect(tcpPing(port)).rejects.toThrow(/ECONNREFUSED/);

      const stopped = await manager.stop();
      expect(stopped.forced).toBe(false);
      const console = readFileSync(paths.consoleLog, 'utf8');
      expect(console).toContain('formatting the data disk');
      expect(console).toMatch(/berth-init: [\d.]+ halted/);
      expect(existsSync(paths.apiSocket)).toBe(false);
      expect((await manager.status()).state).toBe('stopped');
    } finally {
      await manager.stop();
    }
  }, 300_000);

  it('runs through `berth vm start|status|stop` and keeps the data disk across boots', async () => {
    expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
    const stateDir = path.join(dir, 'state'); // the disk the first test formatted (tests in a file run in order)
    const args = ['--state-dir', stateDir, '--image', imageDir, '--memory', '1024', '--disk', '5', '--share', shared];
    const diskBefore = statSync(vmPaths(stateDir).dataDisk).size;
    try {
      const start = await run(process.execPath, [cli, 'vm', 'start', ...args], { timeout: 150_000 });
      const dockerHost = start.stdout.trim();
      expect(dockerHost).toBe(`unix://${vmPaths(stateDir).apiSocket}`);
      const status = await run(process.execPath, [cli, 'vm', 'status', ...args]);
      expect(status.stdout).toContain('answers /_ping');
      // a docker context "berth", in a private docker config, reaches the same engine
      const dockerConfig = path.join(dir, 'docker-config');
      const ctxEnv = { ...process.env, DOCKER_CONFIG: dockerConfig, DOCKER_HOST: '' };
      await run(process.execPath, [cli, 'vm', 'context', ...args], { env: ctxEnv });
      expect((await run('docker', ['--context', 'berth', 'version', '--format', '{{.Server.Platform.Name}}'], { env: ctxEnv })).stdout.trim()).toBe('Berth Engine');

      // containers in the VM: an image loaded through the host socket, a run, a shared folder
      // read at its host path, and a published port reachable on the host's loopback
      const env = { ...process.env, DOCKER_HOST: dockerHost };
      const docker = (...a: string[]) => run('docker', a, { env, timeout: 120_000 });
      const archive = execFileSync('bash', [path.join(repoRoot, 'e2e', 'fixtures', 'build-images.sh'), 'busybox'], { encoding: 'utf8' }).trim().split('\t')[2]!;
      await docker('load', '-i', archive);
      expect((await docker('run', '--rm', 'busybox', 'echo', 'hello from the VM')).stdout).toBe('hello from the VM\n');
      // the data filesystem followed its disk from 4 to 5 GiB (resized in the background at boot)
      await eventually(async () => {
        const df = (await docker('run', '--rm', '-v', '/var/lib/berth:/d', 'busybox', 'df', '-k', '/d')).stdout.trim().split('\n').pop()!;
        const kib = Number(df.trim().split(/\s+/)[1]);
        if (!(kib > 4.5 * 2 ** 20)) throw new Error(`the data filesystem holds ${kib} KiB: ${df}`);
      });
      writeFileSync(path.join(shared, 'note.txt'), 'shared with the VM\n');
      expect((await docker('run', '--rm', '-v', `${shared}:/x`, 'busybox', 'cat', '/x/note.txt')).stdout).toBe('shared with the VM\n');
      const port = await freeLoopbackPort();
      await docker('run', '-d', '--name', 'web', '-p', `${port}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/www');
      expect(await eventually(() => tcpGet(port, '/'))).toContain('Hello from a Berth test image');
      // an exec on the VM's pure cgroup v2 (crun): started by the shim, in the container's own
      // cgroup and cgroup namespace (whose root it sees as /), under its seccomp filter
      const probe = await docker('exec', 'web', 'sh', '-c', '[ "$(cat /proc/self/cgroup)" = "$(cat /proc/1/cgroup)" ] && echo same-cgroup; grep "^Seccomp:" /proc/self/status; cat /proc/self/cgroup');
      expect(probe.stdout).toBe('same-cgroup\nSeccomp:\t2\n0::/\n');
      await docker('rm', '-f', 'web');
      // the host side of the forward is gone, not just the container behind it
      await eventually(() => tcpGet(port, '/').then(
        () => { throw new Error(`port ${port} still answers`); },
        (err: NodeJS.ErrnoException) => { if (err.code !== 'ECONNREFUSED') throw err; }));
      const console = readFileSync(vmPaths(stateDir).consoleLog, 'utf8');
      expect(console).not.toContain('formatting the data disk'); // reused, not re-created
      expect(statSync(vmPaths(stateDir).dataDisk).size).toBeGreaterThan(diskBefore); // --disk 5 grew it
    } finally {
      const stop = await run(process.execPath, [cli, 'vm', 'stop', ...args], { timeout: 60_000 });
      expect(stop.stdout.trim()).toBe('VM stopped');
    }
    const after = await run(process.execPath, [cli, 'vm', 'status', '--state-dir', stateDir]).catch((e: { stdout: string }) => e);
    expect(after.stdout.trim()).toBe('stopped');
  }, 400_000);

  it('mounts shared folders at the same path over a pure cgroup v2 hierarchy where runc and crun run containers', async () => {
    writeFileSync(path.join(shared, 'hello.txt'), 'from the host\n');
    const scripts = path.join(dir, 'scripts');
    mkdirSync(scripts);
    writeFileSync(path.join(scripts, 'selftest.sh'), selftest(shared));
    const stateDir = path.join(dir, 'selftest');
    const backend = new QemuBackend({ exec: ['sh', path.join(scripts, 'selftest.sh')] });
    const handle = await backend.start({ ...config(stateDir), shares: [shared, scripts] }, vmPaths(stateDir));
    const code = await Promise.race([handle.exited, new Promise((r) => setTimeout(() => r('timeout'), 180_000))]);
    if (code === 'timeout') await handle.kill();
    const out = readFileSync(vmPaths(stateDir).consoleLog, 'utf8');
    expect(out).toContain('SHARED from the host');
    expect(out).toMatch(/CGROUP cgroup2 v1=0 .*memory.*pids/); // pure v2, controllers delegated
    expect(out).toContain('RUNC_CONTAINER_OK');
    expect(out).toContain('CRUN_CONTAINER_OK');
    expect(code).toBe(0); // berth-init powered the VM off after the command
  }, 240_000);
});

describe('the accelerator probe', () => {
  it('passes when the kernel reaches stage 1 and fails when it cannot boot', async () => {
    const image = imageFromDir(imageDir);
    const khz = hostTscKhz(readFileSync('/proc/cpuinfo', 'utf8'));
    expect(await probeAccelerator('qemu-system-x86_64', 'tcg', image.kernel, image.initrd, 60_000, khz)).toBe(true);
    expect(await probeAccelerator('qemu-system-x86_64', 'tcg', image.initrd, image.initrd, 60_000, khz)).toBe(false); // not a kernel
  }, 150_000);
});

describe('a VM that cannot boot', () => {
  it('fails fast with the console\'s last lines and what to try, instead of waiting forever', async () => {
    const stateDir = path.join(dir, 'broken');
    mkdirSync(stateDir);
    const notAFilesystem = path.join(stateDir, 'empty-root.img');
    writeFileSync(notAFilesystem, Buffer.alloc(1024 * 1024));
    const cfg = config(stateDir);
    const manager = new VmManager({ ...cfg, image: { ...cfg.image, rootfs: notAFilesystem } }, new QemuBackend());
    const failure = await manager.start().then(() => undefined, (err: { message: string; status?: VmStatus }) => err);
    expect(failure?.message).toMatch(/the VM did not start: the VM stopped during boot/);
    expect(failure?.status?.state).toBe('failed');
    expect(failure?.status?.consoleTail?.join('\n')).toContain('cannot mount the root image');
    expect(failure?.status?.diagnosis?.tryThis).toMatch(/npm run build:vm/);
    expect(existsSync(vmPaths(stateDir).apiSocket)).toBe(false);
  }, 120_000);
});

/** Runs inside the guest (busybox sh) in place of berthd. */
function selftest(sharedDir: string): string {
  return String.raw`
echo "SHARED $(cat '${sharedDir}/hello.txt')"
echo "CGROUP $(awk '$2 == "/sys/fs/cgroup" {print $3}' /proc/mounts) v1=$(grep -c ' cgroup ' /proc/mounts) $(cat /sys/fs/cgroup/cgroup.subtree_control)"
b=/var/lib/berth/selftest
mkdir -p $b/rootfs/bin $b/rootfs/proc $b/rootfs/dev $b/rootfs/sys
cp /usr/bin/busybox $b/rootfs/bin/ && ln -sf busybox $b/rootfs/bin/sh
cd $b && runc spec
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"sh", "-c", "echo RUNC_CONTAINER_OK"/' config.json
runc run r1 < /dev/null
sed -i 's/RUNC_CONTAINER_OK/CRUN_CONTAINER_OK/' config.json
crun run c1 < /dev/null
echo SELFTEST_DONE
`;
}
