// `berth vm start|stop|status|restart|reset`: the VM from a terminal. `start` launches a detached
// supervisor (this same program, `vm _supervise`) that owns the VM and the host socket, and prints
// the DOCKER_HOST to use once berthd answers; `stop` signals the supervisor, which powers the VM off.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackend } from './backends.js';
import { DEFAULT_RESOURCES, defaultStateDir, imageFromDir, vmPaths, type VmConfig } from './config.js';
import { processAlive, readState } from './state-file.js';
import { ping } from './health.js';
import { VmManager, type VmStatus } from './manager.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`), env: process.env };

const USAGE = `Usage: berth vm COMMAND [OPTIONS]

Commands:
  start     Boot the VM and print the DOCKER_HOST of its engine
  stop      Power the VM off (gracefully, then forced)
  restart   Stop, then start
  status    Show whether the VM runs and berthd answers
  reset     Wipe the VM's data disk (all images, containers, volumes); needs --force
  context   Create (or update) the docker context "berth" pointing at the VM's engine

Options:
  --state-dir DIR   Where the VM keeps its disk, sockets and console log (env BERTH_VM_DIR)
  --image DIR       The built image, vm-image/out (env BERTH_VM_IMAGE)
  --cpus N          Virtual CPUs (default ${DEFAULT_RESOURCES.cpus})
  --memory MiB      Memory (default ${DEFAULT_RESOURCES.memoryMiB})
  --disk GiB        Data disk size; grows an existing disk (default ${DEFAULT_RESOURCES.diskGiB})
  --share DIR       Share a host folder at the same path (repeatable; default: your home; "none" for none)
  --foreground      start: supervise in this process instead of a detached one
  --json            status: print JSON`;

interface Options {
  command: string;
  stateDir: string;
  imageDir: string;
  cpus: number;
  memoryMiB: number;
  diskGiB: number;
  shares: string[];
  foreground: boolean;
  json: boolean;
  force: boolean;
}

class UsageError extends Error {}

function defaultImageDir(env: NodeJS.ProcessEnv): string {
  if (env.BERTH_VM_IMAGE) return env.BERTH_VM_IMAGE;
  // dist/berth.mjs in a checkout, next to vm-image/out
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', 'vm-image', 'out');
}

export function parseArgs(args: string[], env: NodeJS.ProcessEnv): Options {
  const o: Options = {
    command: '', stateDir: defaultStateDir(env), imageDir: defaultImageDir(env), ...DEFAULT_RESOURCES,
    shares: [], foreground: false, json: false, force: false,
  };
  let sharesGiven = false;
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!v || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a positive number`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--state-dir': o.stateDir = path.resolve(value()); break;
      case '--image': o.imageDir = path.resolve(value()); break;
      case '--cpus': o.cpus = num(a, args[++i]); break;
      case '--memory': o.memoryMiB = num(a, args[++i]); break;
      case '--disk': o.diskGiB = num(a, args[++i]); break;
      case '--share': {
        const v = value();
        sharesGiven = true;
        if (v !== 'none') o.shares.push(path.resolve(v));
        break;
      }
      case '--foreground': o.foreground = true; break;
      case '--json': o.json = true; break;
      case '--force': o.force = true; break;
      case '-h': case '--help': o.command = 'help'; break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown flag: ${a}`);
        if (o.command) throw new UsageError(`unexpected argument: ${a}`);
        o.command = a;
    }
  }
  if (!sharesGiven) o.shares = env.BERTH_VM_SHARES !== undefined ? env.BERTH_VM_SHARES.split(path.delimiter).filter(Boolean) : [os.homedir()];
  return o;
}

export function vmConfig(o: Options): VmConfig {
  return {
    name: 'default',
    stateDir: o.stateDir,
    image: imageFromDir(o.imageDir),
    resources: { cpus: o.cpus, memoryMiB: o.memoryMiB, diskGiB: o.diskGiB },
    shares: o.shares,
    stopTimeoutSec: 20,
    bootTimeoutSec: 120,
  };
}

const stateOf = (stateDir: string) => readState(vmPaths(stateDir).stateFile);
const alive = processAlive;

/** The process is a VM of this state directory (its command line names our data disk). */
function isOurVm(pid: number, stateDir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(vmPaths(stateDir).dataDisk);
  } catch {
    return false; // no /proc (macOS, Windows): leave it alone
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function reportFailure(io: CliIo, s: Pick<VmStatus, 'error' | 'consoleTail' | 'consoleLog' | 'diagnosis'>): void {
  io.err(`berth: ${s.error ?? 'the VM failed'}`);
  if (s.consoleTail?.length) io.err(`Last lines of ${s.consoleLog}:\n  ${s.consoleTail.join('\n  ')}`);
  if (s.diagnosis) io.err(`Likely cause: ${s.diagnosis.problem}. Try: ${s.diagnosis.tryThis}.`);
}

async function supervise(o: Options, io: CliIo, detached: boolean): Promise<number> {
  const config = vmConfig(o);
  const manager = new VmManager(config, createBackend(process.platform, io.env), 'cli');
  let stopping: Promise<number> | undefined;
  const stop = () => {
    stopping ??= manager.stop().then((r) => {
      if (!detached) io.out(r.forced ? 'VM stopped (forced: it did not power off in time)' : 'VM stopped');
      return 0;
    });
    return stopping;
  };
  const done = new Promise<number>((resolve) => {
    process.once('SIGTERM', () => void stop().then(resolve));
    process.once('SIGINT', () => void stop().then(resolve));
    manager.onChange((s) => { if (s.state === 'failed') resolve(1); });
  });
  try {
    const s = await manager.start();
    if (!detached) io.out(`VM running (${s.accelerator}, berthd answered in ${((s.bootMs ?? 0) / 1000).toFixed(1)} s)\nexport DOCKER_HOST=${s.dockerHost}`);
  } catch (err) {
    const s = (err as { status?: VmStatus }).status;
    if (s) reportFailure(io, s);
    else io.err(`berth: ${(err as Error).message}`);
    return 1;
  }
  return done;
}

async function start(o: Options, io: CliIo): Promise<number> {
  const prev = stateOf(o.stateDir);
  if (prev && alive(prev.ownerPid) && prev.state !== 'failed' && prev.state !== 'stopped') {
    if (prev.state === 'running') {
      io.out(prev.dockerHost!);
      return 0;
    }
    io.err(`berth: the VM is ${prev.state}; try again in a moment`);
    return 1;
  }
  if (prev?.pid && alive(prev.pid) && isOurVm(prev.pid, o.stateDir)) {
    // a supervisor killed without stopping its VM: that VM still holds the data disk
    io.err(`berth: stopping a VM left running by a previous supervisor (pid ${prev.pid})`);
    process.kill(prev.pid, 'SIGTERM');
    for (let i = 0; i < 50 && alive(prev.pid); i++) await sleep(100);
    if (alive(prev.pid)) process.kill(prev.pid, 'SIGKILL');
  }
  if (o.foreground) return supervise(o, io, false);

  mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
  const log = openSync(path.join(o.stateDir, 'supervisor.log'), 'a');
  const self = process.argv[1]!;
  const args = [self, 'vm', '_supervise', '--state-dir', o.stateDir, '--image', o.imageDir, '--cpus', String(o.cpus),
    '--memory', String(o.memoryMiB), '--disk', String(o.diskGiB), ...(o.shares.length ? o.shares.flatMap((s) => ['--share', s]) : ['--share', 'none'])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], env: io.env });
  child.unref();
  const pid = child.pid!;
  for (;;) {
    await sleep(100);
    const s = stateOf(o.stateDir);
    if (s?.ownerPid === pid && s.state === 'running') {
      io.out(s.dockerHost!);
      return 0;
    }
    if (s?.ownerPid === pid && s.state === 'failed') {
      reportFailure(io, s);
      return 1;
    }
    if (!alive(pid)) {
      io.err(`berth: the VM supervisor exited during start; see ${path.join(o.stateDir, 'supervisor.log')}`);
      return 1;
    }
  }
}

async function stop(o: Options, io: CliIo): Promise<number> {
  const s = stateOf(o.stateDir);
  if (!s || !alive(s.ownerPid)) {
    io.out('the VM is not running');
    return 0;
  }
  if (s.owner === 'app') {
    io.err('berth: the Berth app runs this VM: stop it from the app (or quit the app)');
    return 1;
  }
  process.kill(s.ownerPid, 'SIGTERM');
  while (alive(s.ownerPid)) await sleep(100);
  const after = stateOf(o.stateDir);
  io.out(after?.state === 'stopped' ? 'VM stopped' : `VM ${after?.state ?? 'gone'}`);
  return 0;
}

/** `docker context create berth` (or update): then `docker --context berth …` or `docker context use berth`. */
async function context(o: Options, io: CliIo): Promise<number> {
  const host = `unix://${vmPaths(o.stateDir).apiSocket}`;
  const docker = (args: string[]) => new Promise<{ code: number | null; out: string }>((resolve) => {
    const c = spawn('docker', args, { env: io.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    c.on('error', (err) => resolve({ code: null, out: err.message }));
    c.on('exit', (code) => resolve({ code, out }));
  });
  const exists = (await docker(['context', 'inspect', 'berth'])).code === 0;
  const r = await docker(['context', exists ? 'update' : 'create', 'berth', '--description', 'Berth VM', '--docker', `host=${host}`]);
  if (r.code !== 0) {
    io.err(`berth: could not ${exists ? 'update' : 'create'} the docker context "berth": ${r.out.trim() || 'is the docker CLI installed?'}`);
    return 1;
  }
  io.out(`docker context "berth" → ${host} (use it with: docker context use berth)`);
  return 0;
}

async function status(o: Options, io: CliIo): Promise<number> {
  const s = stateOf(o.stateDir);
  const running = Boolean(s && alive(s.ownerPid) && s.state === 'running');
  const healthy = running ? await ping(vmPaths(o.stateDir).apiSocket) : false;
  if (o.json) {
    io.out(JSON.stringify({ ...(s ?? { state: 'stopped' }), state: s && alive(s.ownerPid) ? s.state : s?.state === 'failed' ? 'failed' : 'stopped', healthy }));
    return running ? 0 : 1;
  }
  if (!running) {
    io.out(s?.state === 'failed' ? 'failed' : 'stopped');
    if (s?.state === 'failed') reportFailure(io, s);
    return 1;
  }
  io.out(`running (${s!.backend}/${s!.accelerator}, ${s!.resources.cpus} CPUs, ${s!.resources.memoryMiB} MiB, disk ${s!.resources.diskGiB} GiB)`);
  io.out(`engine: ${s!.dockerHost} ${healthy ? 'answers /_ping' : 'does NOT answer /_ping'}`);
  if (s!.shares.length) io.out(`shared: ${s!.shares.join(', ')}`);
  return healthy ? 0 : 1;
}

export async function vmCommand(args: string[], io: CliIo = defaultIo): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(args, io.env);
  } catch (err) {
    io.err(`berth vm: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  switch (o.command) {
    case 'start': return start(o, io);
    case '_supervise': return supervise(o, io, true);
    case 'stop': return stop(o, io);
    case 'restart': await stop(o, io); return start(o, io);
    case 'status': return status(o, io);
    case 'context': return context(o, io);
    case 'reset': {
      const s = stateOf(o.stateDir);
      if (s && alive(s.ownerPid)) { io.err('berth: stop the VM before resetting it'); return 1; }
      if (!o.force) { io.err('berth: reset deletes every image, container and volume in the VM; repeat with --force'); return 1; }
      const disk = vmPaths(o.stateDir).dataDisk;
      const had = existsSync(disk);
      new VmManager(vmConfig(o), createBackend(process.platform, io.env)).reset();
      io.out(had ? 'data disk wiped; the next start formats a new one' : 'nothing to reset');
      return 0;
    }
    case 'help': case '': io.out(USAGE); return o.command === 'help' ? 0 : 2;
    default: io.err(`berth vm: unknown command "${o.command}"\n\n${USAGE}`); return 2;
  }
}
