// Real busybox containers through berth-shim and runc: output to the log and to attached
// clients, a pty with resize, stdin, exit codes, exec, re-adoption by a new driver, rotation.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerTask, CreateOptions, Task } from './exec-driver';
import { detectRuntimes, type OciRuntime } from './runtime';
import { hostCgroupMounts } from './cgroups';
import { readLogs } from './log-reader';
import { build } from 'esbuild';
import { RuntimeError, ShimDriver } from './shim-driver';
import { defaultShimPath } from '../spawner/spawner';
import { makeBundle, makeBusyboxRootfs } from './test-bundle';

let root: string;
let rootfs: string;
let runtimes: OciRuntime[];
let driver: ShimDriver;
const tasks: Task[] = [];
let seq = 0;

const newDriver = (): ShimDriver => new ShimDriver({ stateRoot: path.join(root, 's'), runtimes, defaultRuntime: 'runc' });
const runcRoot = (): string => path.join(root, 's/runtime/runc');
const runcList = (): string => execFileSync('runc', ['--root', runcRoot(), 'list', '-q'], { encoding: 'utf8' }).trim();

beforeAll(async () => {
  execFileSync('make', ['-s', '-C', path.resolve(__dirname, '../../../../native/shim')]);
  root = await mkdtemp(path.join(os.tmpdir(), 'bshim-'));
  rootfs = await makeBusyboxRootfs(root);
  runtimes = await detectRuntimes();
  driver = newDriver();
});

afterEach(async () => {
  // Every task is deleted even if one delete fails; the checks below then say what is left.
  const failed = (await Promise.allSettled(tasks.splice(0).map((t) => t.delete()))).filter((r) => r.status === 'rejected');
  expect(failed).toEqual([]);
  expect(runcList()).toBe('');
  expect(readdirSync(path.join(root, 's/containers')).length).toBe(0);
  if (existsSync(path.join(root, 's/exec'))) expect(readdirSync(path.join(root, 's/exec'))).toEqual([]);
  // No cgroup of ours is left in any hierarchy.
  const mounts = hostCgroupMounts();
  for (const dir of [...Object.values(mounts.v1), ...(mounts.unified ? [mounts.unified] : [])]) {
    expect(readdirSync(dir).filter((n) => n.startsWith(`berth-t${process.pid}x`))).toEqual([]);
  }
  // No shim of ours is left.
  const ours = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(root) && l.includes('berth-shim'));
  expect(ours).toEqual([]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function container(args: string[], opts: Partial<CreateOptions> = {}, limits: { maxSize?: number; maxFile?: number } = {}, memoryLimit?: number): Promise<{ task: ContainerTask; id: string; log: string }> {
  const id = `t${process.pid}x${++seq}`;
  const bundle = await makeBundle(path.join(root, 'b', id), rootfs, { args, tty: opts.tty, cgroupsPath: `/berth-${id}`, memoryLimit });
  const log = path.join(root, 'logs', id, 'log');
  execFileSync('mkdir', ['-p', path.dirname(log)]);
  const task = await driver.create(id, { bundle, tty: false, openStdin: false, log: { path: log, ...limits }, ...opts });
  tasks.push(task);
  return { task, id, log };
}

function collect(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString('utf8')));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}

/** Resolves once the stream has shown text matching re. */
function waitFor(stream: Readable, re: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const on = (d: Buffer): void => {
      text += d.toString('utf8');
      if (re.test(text)) {
        stream.off('data', on);
        resolve(text);
      }
    };
    stream.on('data', on);
  });
}

describe('berth-shim with runc', () => {
  it('sends stdout and stderr to an attached client and to the log, and records exit 3', async () => {
    const { task, log } = await container(['sh', '-c', 'echo hello; echo oops >&2; exit 3']);
    expect(task.pid).toBeGreaterThan(0);
    const session = await task.attach({ stdout: true, stderr: true });
    const [out, err] = [collect(session.stdout), collect(session.stderr)];
    await task.start();
    const exit = await task.wait();
    expect(exit.exitCode).toBe(3);
    expect(exit.signal).toBe(0);
    expect(exit.oomKilled).toBe(false);
    expect(await out).toBe('hello\n');
    expect(await err).toBe('oops\n');
    expect((await session.exit)?.exitCode).toBe(3);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.slice(31))).toEqual(['stdout F hello', 'stderr F oops']);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
  });

  it('serves several attach clients at once, each with the streams it asked for', async () => {
    const { task } = await container(['sh', '-c', 'echo out; echo err >&2']);
    const both = await task.attach({ stdout: true, stderr: true });
    const onlyErr = await task.attach({ stdout: false, stderr: true });
    const onlyOut = await task.attach({ stdout: true, stderr: false });
    const got = await Promise.all([both.stdout, both.stderr, onlyErr.stdout, onlyErr.stderr, onlyOut.stdout, onlyOut.stderr].map(collect).concat([task.start().then(() => '')]));
    expect(got.slice(0, 6)).toEqual(['out\n', 'err\n', '', 'err\n', 'out\n', '']);
    expect((await task.wait()).exitCode).toBe(0);
  });

  it('gives a tty container a pty, and resize changes stty size', async () => {
    const { task } = await container(['sh'], { tty: true, openStdin: true });
    const session = await task.attach({ stdin: true, stdout: true });
    await task.start();
    await session.resize(33, 111);
    session.stdin!.write('tty; stty size\n');
    const seen = await waitFor(session.stdout, /33 111/);
    expect(seen).toMatch(/\/dev\/pts\/\d+/);
    await task.resize(40, 120);
    session.stdin!.write('stty size; exit 7\n');
    expect(await waitFor(session.stdout, /40 120/)).toContain('40 120');
    expect((await task.wait()).exitCode).toBe(7);
  });

  it('passes stdin to cat and closes it when the attach ends (StdinOnce)', async () => {
    const { task } = await container(['cat'], { openStdin: true });
    const session = await task.attach({ stdin: true, stdout: true, stdinOnce: true });
    const out = collect(session.stdout);
    await task.start();
    session.stdin!.end('line one\nline two\n');
    expect((await task.wait()).exitCode).toBe(0);
    expect(await out).toBe('line one\nline two\n');
  });

  it('carries megabytes of stdin through to the container and back, with back-pressure', async () => {
    const { task } = await container(['cat'], { openStdin: true });
    const session = await task.attach({ stdin: true, stdout: true, stdinOnce: true });
    let received = 0;
    let sum = 0;
    session.stdout.on('data', (d: Buffer) => {
      received += d.length;
      for (const b of d) sum = (sum + b) % 65521;
    });
    await task.start();
    const block = Buffer.alloc(300_000, 0);
    let expectedSum = 0;
    for (let i = 0; i < block.length; i++) {
      block[i] = (i * 7) % 251;
      expectedSum = (expectedSum + block[i]) % 65521;
    }
    for (let i = 0; i < 10; i++) if (!session.stdin!.write(block)) await new Promise((r) => session.stdin!.once('drain', r));
    session.stdin!.end();
    expect((await task.wait()).exitCode).toBe(0);
    await new Promise((r) => (session.stdout.readableEnded ? r(null) : session.stdout.once('end', r)));
    expect(received).toBe(3_000_000);
    expect(sum).toBe((expectedSum * 10) % 65521);
  });

  it('records 137 for a container killed with SIGKILL, and refuses to kill it twice', async () => {
    const { task } = await container(['sleep', '1000']);
    await task.start();
    await task.kill(9);
    const exit = await task.wait();
    expect(exit).toMatchObject({ exitCode: 137, signal: 9 });
    await expect(task.kill(15)).rejects.toMatchObject({ status: 409 });
  });

  it('deletes a created container that never started', async () => {
    const { task, id } = await container(['sleep', '1000']);
    expect((await task.state()).status).toBe('created');
    await task.delete();
    tasks.splice(tasks.indexOf(task), 1);
    expect(runcList()).toBe('');
    expect(existsSync(`/sys/fs/cgroup/memory/berth-${id}`)).toBe(false);
  });

  it('starts a runc container through its exec fifo, as runc start would', async () => {
    const { task, id } = await container(['sleep', '1000']);
    const fifo = path.join(runcRoot(), id, 'exec.fifo');
    expect(existsSync(fifo)).toBe(true);
    await task.start();
    expect(existsSync(fifo)).toBe(false);
    expect((await task.state()).status).toBe('running');
    // The init execs the process right after writing its byte.
    await expect.poll(() => readFileSync(`/proc/${task.pid}/cmdline`, 'utf8')).toBe('sleep\x001000\x00');
  });

  it('refuses the start of a container whose init died after create, and records its exit', async () => {
    const { task } = await container(['sleep', '1000']);
    process.kill(task.pid, 'SIGKILL');
    // Depending on whether the shim sees the init go before the start frame, it says so, or has
    // already finished (its socket gone, or closing): the start fails either way.
    await expect(task.start()).rejects.toThrow(/OCI runtime start failed: .*(did not take the start|has exited|went away before replying|attach\.sock)/);
    expect((await task.wait()).exitCode).toBe(137);
  });

  it('reports a missing command as dockerd does: 400, exit 127, nothing left behind', async () => {
    const err = await container(['nope-not-here']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).status).toBe(400);
    expect((err as RuntimeError).exitCode).toBe(127);
    expect((err as Error).message).toMatch(/OCI runtime create failed: .*executable file not found in \$PATH/);
  });

  it('keeps the container running when the client side goes away, and a new driver re-adopts it', async () => {
    const { task, id } = await container(['sh', '-c', 'while true; do echo tick; sleep 0.1; done']);
    const first = await task.attach({ stdout: true });
    await task.start();
    await waitFor(first.stdout, /tick/);
    first.detach();
    // The shim is not our child: it was double-forked into its own session.
    const ppid = Number(readFileSync(`/proc/${task.shimPid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    expect(ppid).not.toBe(process.pid);

    // A second create of the same id must not take over the running shim's files.
    await expect(newDriver().create(id, { bundle: task.bundle, tty: false, openStdin: false })).rejects.toMatchObject({ status: 409 });

    const restored = await newDriver().restore();
    expect(restored.map((r) => [r.id, r.status])).toEqual([[id, 'running']]);
    const again = restored[0].task!;
    expect(again.pid).toBe(task.pid);
    const session = await again.attach({ stdout: true });
    await waitFor(session.stdout, /tick\n/);
    expect((await again.state()).status).toBe('running');
    // sh is the container's pid 1: only SIGKILL is sure to end it.
    await again.kill(9);
    expect((await again.wait()).exitCode).toBe(137);
    tasks.splice(tasks.indexOf(task), 1, again);
  });

  it('runs a tty container under a state root too long for unix socket addresses, and re-adopts it', async () => {
    const stateRoot = path.join(root, 'l'.repeat(60));
    const longDriver = (): ShimDriver => new ShimDriver({ stateRoot, runtimes, defaultRuntime: 'runc' });
    const name = `t${process.pid}x${++seq}`;
    const id = name + 'f'.repeat(64 - name.length); // as long as a docker id
    expect(Buffer.byteLength(path.join(stateRoot, 'containers', id, 'console.sock'))).toBeGreaterThan(107);
    const bundle = await makeBundle(path.join(root, 'b', name), rootfs, { args: ['sh'], tty: true, cgroupsPath: `/berth-${name}` });
    const task = await longDriver().create(id, { bundle, tty: true, openStdin: true });
    tasks.push(task);
    const first = await task.attach({ stdin: true, stdout: true });
    await task.start();
    first.stdin!.write('echo up-$((20+1))\n');
    await waitFor(first.stdout, /up-21/);
    first.detach();
    const restored = await longDriver().restore();
    expect(restored.map((r) => [r.id, r.status])).toEqual([[id, 'running']]);
    const again = restored[0].task!;
    tasks.splice(tasks.indexOf(task), 1, again);
    const second = await again.attach({ stdin: true, stdout: true });
    second.stdin!.write('exit 3\n');
    expect((await again.wait()).exitCode).toBe(3);
  });

  it('re-adopts a container that exited while no berthd was there, with its exit code', async () => {
    const { task, id } = await container(['sh', '-c', 'exit 5']);
    await task.start();
    await task.wait();
    const restored = await newDriver().restore();
    expect(restored).toMatchObject([{ id, status: 'exited', exit: { exitCode: 5 } }]);
  });

  it('reports an OOM kill', async () => {
    const { task } = await container(['tail', '/dev/zero'], {}, {}, 16 << 20);
    await task.start();
    expect(await task.wait()).toMatchObject({ exitCode: 137, signal: 9, oomKilled: true });
  });

  it('survives the death of the berthd that started it (kill -9), and a new one takes over', async () => {
    // A real second process plays berthd: it creates, starts and attaches, then is SIGKILLed.
    const id = `t${process.pid}x${++seq}`;
    const bundle = await makeBundle(path.join(root, 'b', id), rootfs, {
      args: ['sh', '-c', 'while read l; do echo "got $l"; [ "$l" = quit ] && exit 9; done'],
      cgroupsPath: `/berth-${id}`,
    });
    const log = path.join(root, 'logs', id, 'log');
    mkdirSync(path.dirname(log), { recursive: true });
    const entry = path.join(root, `berthd-${id}.ts`);
    writeFileSync(entry, `
      import { ShimDriver } from ${JSON.stringify(path.join(__dirname, 'shim-driver.ts'))};
      import { detectRuntimes } from ${JSON.stringify(path.join(__dirname, 'runtime.ts'))};
      const [stateRoot, id, bundle, log, shimPath] = process.argv.slice(2);
      const driver = new ShimDriver({ stateRoot, runtimes: await detectRuntimes(), defaultRuntime: 'runc', shimPath });
      const task = await driver.create(id, { bundle, tty: false, openStdin: true, log: { path: log } });
      const s = await task.attach({ stdin: true, stdout: true });
      s.stdout.pipe(process.stdout);
      await task.start();
      s.stdin!.write('hello\\n');
    `);
    await build({ entryPoints: [entry], outfile: `${entry}.mjs`, bundle: true, platform: 'node', format: 'esm', logLevel: 'error' });
    const berthd = spawn(process.execPath, [`${entry}.mjs`, path.join(root, 's'), id, bundle, log, defaultShimPath()], { stdio: ['ignore', 'pipe', 'inherit'] });
    let task: ContainerTask | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Bounded, so that the cleanup below runs before the test's own timeout abandons it.
      await Promise.race([
        waitFor(berthd.stdout, /got hello/),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the berthd process never relayed the container\'s answer')), 30_000))),
      ]);
    } finally {
      clearTimeout(timer);
      berthd.kill('SIGKILL');
      await new Promise((r) => (berthd.exitCode !== null || berthd.signalCode !== null ? r(null) : berthd.once('exit', r)));
      // Whatever happened, the container it made is ours to clean up.
      const [restored] = (await newDriver().restore()).filter((r) => r.id === id);
      if (restored?.task) tasks.push((task = restored.task));
      else if (restored) await driver.cleanupLost(id);
      expect(restored?.status).toBe('running');
    }
    if (!task) return;
    expect((await task.state()).status).toBe('running');
    const session = await task.attach({ stdin: true, stdout: true });
    const out = collect(session.stdout);
    session.stdin!.write('quit\n');
    expect((await task.wait()).exitCode).toBe(9);
    expect(await out).toBe('got quit\n');
    expect(readFileSync(log, 'utf8')).toMatch(/stdout F got hello\n.*stdout F got quit\n$/s);
  });

  it('reports a container whose shim died as lost, and cleans it up through the runtime', async () => {
    const { task, id } = await container(['sleep', '1000']);
    await task.start();
    process.kill(task.shimPid, 'SIGKILL');
    // Until its parent reaps it, the killed shim is a zombie; its socket is closed at once.
    const restored = (await newDriver().restore()).filter((r) => r.id === id);
    expect(restored).toEqual([{ id, status: 'lost' }]);
    await driver.cleanupLost(id);
    tasks.splice(tasks.indexOf(task), 1);
    expect(runcList()).toBe('');
    expect(existsSync(`/proc/${task.pid}/cmdline`) && readFileSync(`/proc/${task.pid}/cmdline`, 'utf8').includes('sleep')).toBe(false);
  });

  it('pauses and resumes through the runtime', async () => {
    const { task } = await container(['sleep', '1000']);
    await task.start();
    await task.pause();
    expect((await task.state()).status).toBe('paused');
    await task.resume();
    expect((await task.state()).status).toBe('running');
    const cg = await task.cgroups();
    expect(cg.v1.memory ?? cg.unified).toBeTruthy();
  });

  it('runs exec processes under their own shim, with and without a tty', async () => {
    const { task } = await container(['sleep', '1000']);
    await task.start();
    const exec = await task.exec('e1', { process: { args: ['sh', '-c', 'echo from exec; exit 4'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } }, tty: false, openStdin: false });
    tasks.push(exec);
    const s = await exec.attach({ stdout: true });
    const out = collect(s.stdout);
    await exec.start();
    expect((await exec.wait()).exitCode).toBe(4);
    expect(await out).toBe('from exec\n');

    const tty = await task.exec('e2', { process: { args: ['tty'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } }, tty: true, openStdin: false });
    tasks.push(tty);
    const ts = await tty.attach({ stdout: true });
    const tout = collect(ts.stdout);
    await tty.start();
    expect((await tty.wait()).exitCode).toBe(0);
    expect(await tout).toMatch(/^\/dev\/pts\/\d+\r\n$/);

    // stdin written between attach and start reaches the process (echo x | docker exec -i c cat).
    const cat = await task.exec('e4', { process: { args: ['cat'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } }, tty: false, openStdin: true });
    tasks.push(cat);
    const cs = await cat.attach({ stdin: true, stdout: true, stdinOnce: true });
    const cout = collect(cs.stdout);
    cs.stdin!.end('piped in\n');
    await cat.start();
    expect((await cat.wait()).exitCode).toBe(0);
    expect(await cout).toBe('piped in\n');

    // An exec created and never started goes away on delete.
    const unused = await task.exec('e5', { process: { args: ['true'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } }, tty: false, openStdin: false });
    await unused.delete();
    expect(existsSync(path.join(root, 's/exec/e5'))).toBe(false);

    const missing = await task.exec('e3', { process: { args: ['nope'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } }, tty: false, openStdin: false });
    tasks.push(missing);
    await expect(missing.start()).rejects.toMatchObject({ status: 400, exitCode: 127 });
    expect((await missing.wait()).exitCode).toBe(127);
  });

  it('follows the log (logs -f) through rotations until the container exits', async () => {
    const { task, log } = await container(['sh', '-c', 'sleep 0.2; seq 1 2000; seq 2001 4000 >&2'], {}, { maxSize: 4096, maxFile: 100 });
    const logs = readLogs(log, { stdout: true, stderr: true, format: 'raw', follow: true, stop: task.wait() });
    const text = collect(logs);
    await task.start();
    expect((await task.wait()).exitCode).toBe(0);
    const numbers = (await text).trim().split('\n').map(Number);
    // Each stream in order, nothing lost or repeated (the two pipes may interleave).
    expect(numbers.filter((n) => n <= 2000)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    expect(numbers.filter((n) => n > 2000)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 2001));
    expect(readdirSync(path.dirname(log)).length).toBeGreaterThan(10);
  });

  it('drives crun too (here inside a private mount namespace that hides the hybrid cgroup2 controllers)', async () => {
    const crun = (await detectRuntimes()).find((r) => r.name === 'crun');
    if (!crun) return;
    // The wrapper starts the shim in its own mount namespace, where crun sees no v2 controllers.
    const empty = path.join(root, 'empty');
    writeFileSync(empty, '');
    const wrapper = path.join(root, 'shim-in-mountns.sh');
    writeFileSync(wrapper, `#!/bin/sh\nexec unshare -m --propagation private sh -c 'mount --bind ${empty} /sys/fs/cgroup/unified/cgroup.controllers && exec "$0" "$@"' ${defaultShimPath()} "$@"\n`, { mode: 0o755 });
    const crunDriver = new ShimDriver({ stateRoot: path.join(root, 's'), runtimes: [{ ...crun, usable: true }], defaultRuntime: 'crun', shimPath: wrapper });
    const id = `t${process.pid}x${++seq}`;
    const bundle = await makeBundle(path.join(root, 'b', id), rootfs, { args: ['sh', '-c', 'echo via crun; exit 6'], cgroupsPath: `/berth-${id}` });
    const task = await crunDriver.create(id, { bundle, tty: false, openStdin: false });
    tasks.push(task);
    expect(task.runtime).toBe('crun');
    const s = await task.attach({ stdout: true });
    const out = collect(s.stdout);
    await task.start();
    expect((await task.wait()).exitCode).toBe(6);
    expect(await out).toBe('via crun\n');
    const err = await crunDriver.create(`${id}n`, { bundle: await makeBundle(path.join(root, 'b', `${id}n`), rootfs, { args: ['nope'], cgroupsPath: `/berth-${id}n` }), tty: false, openStdin: false }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, exitCode: 127 });
    expect(existsSync(`/sys/fs/cgroup/memory/berth-${id}n`)).toBe(false);
  });

  it('rotates the log by size, keeping max-file whole-record files', async () => {
    const { task, log } = await container(['seq', '1', '3000'], {}, { maxSize: 8192, maxFile: 3 });
    await task.start();
    expect((await task.wait()).exitCode).toBe(0);
    expect(readdirSync(path.dirname(log)).sort()).toEqual(['log', 'log.1', 'log.2']);
    const numbers: number[] = [];
    for (const f of [`${log}.2`, `${log}.1`, log]) {
      expect(statSync(f).size).toBeLessThanOrEqual(8192);
      for (const line of readFileSync(f, 'utf8').split('\n').filter(Boolean)) {
        expect(line).toMatch(/^\S{30} stdout F \d+$/);
        numbers.push(Number(line.slice(40)));
      }
    }
    expect(numbers.at(-1)).toBe(3000);
    expect(numbers.length).toBeGreaterThan(100);
    numbers.forEach((n, i) => i > 0 && expect(n).toBe(numbers[i - 1] + 1));
  });
});
