// Containers end to end: the real docker CLI against a berthd on a temporary socket, with the
// busybox fixture loaded. Interactive commands run in a real pty (a private tmux server), so
// typing, reading and resizing are what a person at a terminal does. After every test all
// containers are removed and nothing may be left: no mounts, cgroups, shims or bundles.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { promisify } from 'node:util';
import { startBerthd, type Berthd } from './berthd';
import { startReferenceDockerd } from './reference';
import { ensureFixtures } from './fixtures/fixtures';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const usable = process.getuid?.() === 0 && existsSync('/usr/bin/tmux');

interface Result { code: number; stdout: string; stderr: string }

async function docker(b: { env: NodeJS.ProcessEnv }, ...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run('docker', args, { env: b.env, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** docker that must succeed; returns its trimmed stdout. */
async function ok(b: { env: NodeJS.ProcessEnv }, ...args: string[]): Promise<string> {
  const r = await docker(b, ...args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function api(socket: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath: socket, method, path: p, headers: data ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * A raw hijacked attach (stdin, stdout, stderr) that types `keys` once attached, as an API client
 * that leaves the detach keys to the engine does (the docker CLI scans them itself). Resolves when
 * the engine ends the connection; rejects if it does not within 10 s.
 */
function attachAndType(socket: string, container: string, keys: string, detachKeys?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(socket);
    const query = `stream=1&stdin=1&stdout=1&stderr=1${detachKeys ? `&detachKeys=${detachKeys}` : ''}`;
    conn.write(`POST /containers/${container}/attach?${query} HTTP/1.1\r\nHost: engine\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`);
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      conn.off('data', onData);
      conn.resume();
      setTimeout(() => conn.write(keys, 'latin1'), 300);
    };
    conn.on('data', onData);
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`the engine did not end the attach to ${container} after the detach keys`));
    }, 10_000);
    conn.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    conn.once('error', reject);
  });
}

/** A terminal: a private tmux server whose one window runs a command in a real pty. */
class Terminal {
  private readonly socket = `berth-e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  constructor(command: string, env: NodeJS.ProcessEnv, cols = 100, rows = 30) {
    execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', 'new-session', '-d', '-s', 't', '-x', String(cols), '-y', String(rows),
      '-e', `DOCKER_HOST=${env.DOCKER_HOST}`, '-e', `DOCKER_CONFIG=${env.DOCKER_CONFIG}`, `${command}; echo "[exit $?]"; sleep 600`]);
  }
  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }
  type(text: string): void {
    this.tmux('send-keys', '-t', 't', '-l', text);
    this.tmux('send-keys', '-t', 't', 'Enter');
  }
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 't', ...keys);
  }
  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', 't', '-S', '-200');
  }
  resize(cols: number, rows: number): void {
    this.tmux('resize-window', '-t', 't', '-x', String(cols), '-y', String(rows));
  }
  waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return until(`${pattern} on the terminal`, async () => this.screen().match(pattern) ?? undefined, timeoutMs).catch((err: Error) => {
      throw new Error(`${err.message}; screen:\n${this.screen()}`);
    });
  }
  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // Already gone.
    }
  }
}

let b: Berthd;
const terminals: Terminal[] = [];
const terminal = (command: string, cols?: number, rows?: number) => {
  const t = new Terminal(command, b.env, cols, rows);
  terminals.push(t);
  return t;
};

/** Removes every container, then checks that nothing of them is left on the host. */
async function removeAllAndCheck(d: Berthd): Promise<void> {
  const ids = (await ok(d, 'ps', '-aq', '--no-trunc')).split('\n').filter(Boolean);
  if (ids.length > 0) await docker(d, 'rm', '-f', ...ids);
  expect(await ok(d, 'ps', '-aq')).toBe('');
  expect(readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(d.dataRoot))).toEqual([]);
  for (const dir of [path.join(d.execRoot, 'containers'), path.join(d.execRoot, 'exec'), path.join(d.dataRoot, 'containers')]) {
    if (existsSync(dir)) expect(readdirSync(dir)).toEqual([]);
  }
  for (const id of ids) {
    for (const controller of ['memory', 'pids', 'cpu', 'freezer', 'devices']) {
      expect(existsSync(`/sys/fs/cgroup/${controller}/berth/${id}`)).toBe(false);
    }
    const shims = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('berth-shim') && l.includes(id));
    expect(shims).toEqual([]);
  }
}

beforeAll(async () => {
  if (!usable) return;
  const fixtures = await ensureFixtures();
  // startBerthd's own temporary roots: <exec-root>/containers/<64-hex id>/console.sock is longer
  // than a unix socket address may be, which the shim driver must cope with.
  b = await startBerthd();
  await ok(b, 'load', '-i', fixtures.busybox.dockerArchive);
});

afterEach(async () => {
  if (!usable) return;
  for (const t of terminals.splice(0)) t.close();
  await removeAllAndCheck(b);
});

afterAll(async () => {
  if (b) await b.stop();
});

describe.skipIf(!usable)('docker run', () => {
  it('runs a command, prints its output and removes it with --rm', async () => {
    const r = await docker(b, 'run', '--rm', 'busybox', 'echo', 'hi');
    expect(r).toMatchObject({ code: 0, stdout: 'hi\n' });
    expect(await ok(b, 'ps', '-aq')).toBe('');
  });

  it('returns the exit code, keeps stdout and stderr apart, and passes piped stdin', async () => {
    const r = await docker(b, 'run', '--name', 'codes', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3');
    expect(r).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(await ok(b, 'inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'codes')).toBe('exited 3');
    const piped = await run('sh', ['-c', 'echo piped-in | docker run -i --rm busybox cat'], { env: b.env, encoding: 'utf8' });
    expect(piped.stdout).toBe('piped-in\n');
  });

  it('runs detached, follows logs while it runs, and stop ends the follow', async () => {
    const id = await ok(b, 'run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done');
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const follow = docker(b, 'logs', '-f', 'ticker');
    await until('three ticks in the log', async () => (await ok(b, 'logs', 'ticker')).includes('tick 3'));
    await ok(b, 'stop', 'ticker');
    const followed = await follow;
    expect(followed.code).toBe(0);
    const lines = followed.stdout.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual(['tick 0', 'tick 1', 'tick 2', 'tick 3']);
    expect(await ok(b, 'inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'ticker')).toBe('exited 0');
    expect(await ok(b, 'logs', '--tail', '1', 'ticker')).toBe(lines.at(-1));
    expect((await ok(b, 'logs', '-t', '--tail', '1', 'ticker'))).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z tick \d+$/);
    // since and until are inclusive, to the nanosecond the -t stamps print.
    const third = (await ok(b, 'logs', '-t', 'ticker')).split('\n')[2]!.split(' ')[0]!;
    expect((await ok(b, 'logs', '--since', third, 'ticker')).split('\n')[0]).toBe('tick 2');
    expect((await ok(b, 'logs', '--until', third, 'ticker')).split('\n')).toEqual(['tick 0', 'tick 1', 'tick 2']);
  });

  it('runs -it in a real terminal: typing, reading, and resizing seen by stty size', async () => {
    const t = terminal('docker run -it --name tty1 busybox sh', 100, 30);
    await t.waitFor(/^\/ #/m);
    t.type('echo typed-$((6*7))');
    await t.waitFor(/^typed-42$/m);
    t.type('stty size');
    await t.waitFor(/^30 100$/m);
    t.resize(120, 40);
    await sleep(300);
    t.type('stty size');
    await t.waitFor(/^40 120$/m);
    t.type('exit 5');
    await t.waitFor(/\[exit 5\]/);
    expect(await ok(b, 'inspect', '-f', '{{.State.ExitCode}}', 'tty1')).toBe('5');
  });
});

describe.skipIf(!usable)('exec and attach', () => {
  it('execs commands with their exit codes, and refuses what dockerd refuses', async () => {
    await ok(b, 'run', '-d', '--name', 'box', 'busybox', 'sleep', '1000');
    expect(await ok(b, 'exec', 'box', 'sh', '-c', 'echo $HOSTNAME')).toBe((await ok(b, 'inspect', '-f', '{{.Config.Hostname}}', 'box')));
    expect((await docker(b, 'exec', 'box', 'sh', '-c', 'exit 7')).code).toBe(7);
    const missing = await docker(b, 'exec', 'box', 'nope');
    expect(missing.code).toBe(126);
    expect(missing.stdout + missing.stderr).toContain('exec: "nope": executable file not found in $PATH');
    expect(await ok(b, 'exec', '-u', 'nobody', 'box', 'id', '-u')).toBe('65534');
    expect(await ok(b, 'exec', '-e', 'X=1', '-w', '/tmp', 'box', 'sh', '-c', 'echo $X $(pwd)')).toBe('1 /tmp');
    await ok(b, 'run', '--name', 'done1', 'busybox', 'true');
    expect((await docker(b, 'exec', 'done1', 'true')).stderr).toMatch(/Error response from daemon: Container [0-9a-f]{64} is not running/);
  });

  it('exec -it in a real terminal, with resize', async () => {
    await ok(b, 'run', '-d', '--name', 'box2', 'busybox', 'sleep', '1000');
    const t = terminal('docker exec -it box2 sh', 80, 24);
    await t.waitFor(/^\/ #/m);
    t.type('stty size; echo in-$((1+1))-exec');
    await t.waitFor(/^24 80$/m);
    await t.waitFor(/^in-2-exec$/m);
    t.resize(90, 33);
    await sleep(300);
    t.type('stty size');
    await t.waitFor(/^33 90$/m);
    t.type('exit 4');
    await t.waitFor(/\[exit 4\]/);
  });

  it('attaches to a running container, and ctrl-p ctrl-q detaches leaving it running', async () => {
    await ok(b, 'run', '-dit', '--name', 'att', 'busybox', 'sh');
    const t = terminal('docker attach att');
    await sleep(500);
    t.type('echo attached-$((2+3))');
    await t.waitFor(/^attached-5$/m);
    t.keys('C-p', 'C-q');
    await t.waitFor(/read escape sequence/);
    expect(await ok(b, 'inspect', '-f', '{{.State.Running}}', 'att')).toBe('true');
    expect(await ok(b, 'logs', 'att')).toContain('attached-5');
  });

  it('emits detach as dockerd does: when the engine reads the detach keys, not when the CLI detaches by itself', async () => {
    // The same steps on berthd and, when it runs here, on the reference dockerd: `docker run -it`
    // and `docker attach` (default and --detach-keys) detached with their keys in a real terminal,
    // where the CLI scans the keys and just hangs up; then an API client that sends the keys.
    const ref = startReferenceDockerd();
    const engines = [{ name: 'berthd', env: b.env, socket: b.socket, image: 'busybox' }];
    if (ref) engines.push({ name: 'dockerd', env: { ...ref.env, DOCKER_CONFIG: b.env.DOCKER_CONFIG }, socket: ref.socket, image: 'busybox:ref' });
    const name = `detacher-${process.pid}`;
    const seen: Record<string, string[]> = {};
    for (const e of engines) {
      // Followed live: the reference dockerd is shared, and its replay keeps only its last 256 events.
      const follower = spawn('docker', ['events', '--filter', `container=${name}`, '--format', '{{.Action}} {{json .Actor.Attributes}}'], { env: e.env });
      let events = '';
      follower.stdout.on('data', (d: Buffer) => (events += d.toString()));
      try {
        await sleep(1000);
        const run = new Terminal(`docker run -it --name ${name} --label detach.test=yes ${e.image} sh`, e.env);
        terminals.push(run);
        await run.waitFor(/^\/ #/m);
        run.keys('C-p', 'C-q');
        await run.waitFor(/\[exit 0\]/); // run -it leaves quietly; attach says "read escape sequence".
        for (const [args, keys] of [[[], ['C-p', 'C-q']], [['--detach-keys', 'ctrl-a,x'], ['C-a', 'x']]] as const) {
          const t = new Terminal(`docker attach ${args.join(' ')} ${name}`, e.env);
          terminals.push(t);
          await sleep(700);
          t.keys(...keys);
          await t.waitFor(/read escape sequence/);
        }
        await attachAndType(e.socket, name, '\x10\x11');
        await attachAndType(e.socket, name, '\x01x', 'ctrl-a,x');
        expect(await ok(e, 'inspect', '-f', '{{.State.Running}}', name)).toBe('true');
        await until('the last detach event', async () => events.split('\n').filter((l) => l.startsWith('detach ')).length >= 2);
        const lines = events.split('\n').filter((l) => /^(attach|detach) /.test(l));
        seen[e.name] = lines.map((l) => l.split(' ')[0]!);
        const detach = lines.find((l) => l.startsWith('detach '));
        expect(detach && JSON.parse(detach.slice('detach '.length))).toEqual({ 'detach.test': 'yes', image: e.image, name });
      } finally {
        follower.kill();
        await docker(e, 'rm', '-f', name);
      }
    }
    expect(seen.berthd).toEqual(['attach', 'attach', 'attach', 'attach', 'detach', 'attach', 'detach']);
    if (ref) expect(seen.dockerd).toEqual(seen.berthd);
  });

  it('attaches over a websocket (attach/ws): stdin in, output out', async () => {
    await ok(b, 'run', '-dit', '--name', 'wsc', 'busybox', 'sh');
    const ws = new WebSocket(`ws+unix://${b.socket}:/v1.51/containers/wsc/attach/ws?stream=1&stdin=1&stdout=1&stderr=1`);
    let output = '';
    ws.on('message', (d: Buffer) => (output += d.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await sleep(300);
    ws.send('echo over-$((20+1))-ws\n');
    await until('the echo over the websocket', async () => output.includes('over-21-ws'));
    ws.close();
  });

  it('start -a sees all output of a container attached before it runs', async () => {
    await ok(b, 'create', '--name', 'later', 'busybox', 'sh', '-c', 'echo first; echo second');
    const r = await docker(b, 'start', '-a', 'later');
    expect(r).toMatchObject({ code: 0, stdout: 'first\nsecond\n' });
  });
});

describe.skipIf(!usable)('lifecycle commands', () => {
  it('waits, kills with a signal, pauses and unpauses, restarts and renames', async () => {
    await ok(b, 'run', '-d', '--name', 'life', 'busybox', 'sh', '-c', 'trap "exit 12" USR1; while true; do sleep 0.1; done');
    await ok(b, 'pause', 'life');
    expect(await ok(b, 'inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'life')).toBe('paused true');
    expect(await ok(b, 'ps', '--format', '{{.Status}}', '--filter', 'name=life')).toMatch(/\(Paused\)$/);
    expect((await docker(b, 'pause', 'life')).stderr).toMatch(/is already paused/);
    await ok(b, 'unpause', 'life');
    const waiting = docker(b, 'wait', 'life');
    await sleep(200);
    await ok(b, 'kill', '-s', 'USR1', 'life');
    expect((await waiting).stdout.trim()).toBe('12');
    await ok(b, 'restart', 'life');
    expect(await ok(b, 'inspect', '-f', '{{.State.Running}}', 'life')).toBe('true');
    await ok(b, 'rename', 'life', 'renamed');
    expect(await ok(b, 'inspect', '-f', '{{.Name}}', 'renamed')).toBe('/renamed');
    expect((await docker(b, 'inspect', 'life')).code).not.toBe(0);
    await ok(b, 'kill', 'renamed');
    expect(await ok(b, 'inspect', '-f', '{{.State.ExitCode}}', 'renamed')).toBe('137');
    await sleep(1100);
    const events = await ok(b, 'events', '--since', '60s', '--until', '0s', '--filter', 'type=container', '--format', '{{.Action}}');
    for (const action of ['create', 'start', 'pause', 'unpause', 'kill', 'die', 'restart', 'rename']) expect(events.split('\n')).toContain(action);
  });

  it('updates memory of a running container in its cgroup, and shows top and stats', async () => {
    const id = await ok(b, 'run', '-d', '--name', 'res', '-m', '32m', 'busybox', 'sleep', '1000');
    await ok(b, 'update', '--memory', '64m', '--memory-swap', '128m', 'res');
    expect(await ok(b, 'inspect', '-f', '{{.HostConfig.Memory}}', 'res')).toBe(String(64 << 20));
    const cg = `/sys/fs/cgroup/memory/berth/${id}/memory.limit_in_bytes`;
    if (existsSync(cg)) expect(readFileSync(cg, 'utf8').trim()).toBe(String(64 << 20));
    const topOut = await ok(b, 'top', 'res');
    expect(topOut.split('\n')[0]).toMatch(/PID/);
    expect(topOut).toContain('sleep 1000');
    const stats = await ok(b, 'stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'res');
    expect(stats).toMatch(/^res \S+ \/ 64MiB 1$/);
  });

  it('copies files both ways, shows changes, and exports the filesystem', async () => {
    await ok(b, 'run', '-d', '--name', 'files', 'busybox', 'sh', '-c', 'echo inside > /tmp/made; rm /www/index.html; sleep 1000');
    await until('the container wrote its file', async () => (await docker(b, 'exec', 'files', 'cat', '/tmp/made')).stdout === 'inside\n');
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-cp-'));
    try {
      writeFileSync(path.join(dir, 'from-host.txt'), 'host data\n');
      await ok(b, 'cp', path.join(dir, 'from-host.txt'), 'files:/tmp/');
      expect(await ok(b, 'exec', 'files', 'cat', '/tmp/from-host.txt')).toBe('host data');
      await ok(b, 'cp', 'files:/tmp/made', path.join(dir, 'back.txt'));
      expect(readFileSync(path.join(dir, 'back.txt'), 'utf8')).toBe('inside\n');
      await ok(b, 'cp', 'files:/etc', path.join(dir, 'etc'));
      expect(readFileSync(path.join(dir, 'etc', 'passwd'), 'utf8')).toContain('root:');
      expect((await docker(b, 'cp', 'files:/no/such', dir)).stderr).toContain('Could not find the file /no/such in container files');
      const diff = (await ok(b, 'diff', 'files')).split('\n');
      expect(diff).toContain('A /tmp/made');
      expect(diff).toContain('D /www/index.html');
      expect(diff).not.toContain('A /etc/hostname');
      const exported = path.join(dir, 'fs.tar');
      await ok(b, 'export', '-o', exported, 'files');
      const names = execFileSync('tar', ['-tf', exported], { encoding: 'utf8' }).split('\n');
      expect(names).toContain('bin/busybox');
      expect(names).toContain('tmp/made');
      expect(names).not.toContain('www/index.html');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('inspects and lists with dockerd fields, filters and formats', async () => {
    await ok(b, 'run', '-d', '--name', 'lab1', '--label', 'tier=web', '--hostname', 'h1', 'busybox', 'sleep', '1000');
    expect((await docker(b, 'run', '--name', 'lab2', '--label', 'tier=db', 'busybox', 'sh', '-c', 'exit 2')).code).toBe(2);
    await ok(b, 'create', '--name', 'lab3', 'busybox', 'true');
    const inspect = JSON.parse(await ok(b, 'inspect', 'lab1'))[0];
    expect(inspect).toMatchObject({ Name: '/lab1', Path: 'sleep', Args: ['1000'], Config: { Hostname: 'h1', Image: 'busybox', Labels: { tier: 'web' } }, State: { Status: 'running', Running: true } });
    expect(inspect.Id).toMatch(/^[0-9a-f]{64}$/);
    expect(inspect.Image).toMatch(/^sha256:/);
    expect(inspect.State.Pid).toBeGreaterThan(0);
    expect(await ok(b, 'ps', '--format', '{{.Names}}')).toBe('lab1');
    expect((await ok(b, 'ps', '-a', '--format', '{{.Names}}')).split('\n').sort()).toEqual(['lab1', 'lab2', 'lab3']);
    expect(await ok(b, 'ps', '-a', '--filter', 'label=tier=db', '--format', '{{.Names}}')).toBe('lab2');
    expect(await ok(b, 'ps', '-a', '--filter', 'exited=2', '--format', '{{.Names}} {{.Status}}')).toMatch(/^lab2 Exited \(2\) /);
    expect(await ok(b, 'ps', '-a', '--filter', 'status=created', '--format', '{{.Names}} {{.Status}}')).toBe('lab3 Created');
    expect((await ok(b, 'ps', '-a', '--filter', 'ancestor=busybox', '-q')).split('\n')).toHaveLength(3);
    expect(await ok(b, 'ps', '-a', '--last', '1', '--format', '{{.Names}}')).toBe('lab3');
    expect(await ok(b, 'ps', '--format', '{{.Command}}')).toBe('"sleep 1000"');
    await ok(b, 'exec', 'lab1', 'dd', 'if=/dev/zero', 'of=/tmp/big', 'bs=1024', 'count=1024');
    const [rw, rootFs] = (await ok(b, 'inspect', '-s', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'lab1')).split(' ').map(Number);
    expect(rw).toBeGreaterThanOrEqual(1 << 20);
    expect(rw).toBeLessThan((1 << 20) + 64 * 1024);
    expect(rootFs).toBeGreaterThan(rw! + 500_000);
    expect(await ok(b, 'ps', '-s', '--filter', 'name=lab1', '--format', '{{.Size}}')).toMatch(/^1\.0\dMB \(virtual [\d.]+[kM]B\)$/);
    const info = await ok(b, 'info', '--format', '{{.Containers}} {{.ContainersRunning}} {{.ContainersStopped}}');
    expect(info).toBe('3 1 2');
  });
});

describe.skipIf(!usable)('docker ps, served from cached summaries', () => {
  it('shows each change of a listed container: start with a published port, pause, rename, network connect, stop', async () => {
    const row = () => ok(b, 'ps', '-a', '--filter', 'label=ps.cache', '--format', '{{.Names}}|{{.State}}|{{.Status}}|{{.Ports}}|{{.Networks}}');
    await ok(b, 'create', '--name', 'cached', '--label', 'ps.cache', '-p', '127.0.0.1::80', 'busybox', 'sleep', '1000');
    // Each step lists twice before the change, so the list after it had a cached summary to drop.
    const step = async (change: string[], expected: RegExp) => {
      await row();
      await row();
      await ok(b, ...change);
      expect(await row()).toMatch(expected);
    };
    expect(await row()).toBe('cached|created|Created||bridge');
    await step(['start', 'cached'], /^cached\|running\|Up [^|]+\|127\.0\.0\.1:\d+->80\/tcp\|bridge$/);
    await step(['pause', 'cached'], /^cached\|paused\|Up [^|]+ \(Paused\)\|127\.0\.0\.1:\d+->80\/tcp\|bridge$/);
    await step(['unpause', 'cached'], /^cached\|running\|Up [^|(]+\|/);
    await step(['rename', 'cached', 'renamed'], /^renamed\|running\|/);
    await ok(b, 'network', 'create', 'ps-cache-net');
    try {
      await step(['network', 'connect', 'ps-cache-net', 'renamed'], /\|bridge,ps-cache-net$|\|ps-cache-net,bridge$/);
      await step(['stop', '-t', '1', 'renamed'], /^renamed\|exited\|Exited \(137\) [^|]+\|\|/);
      await step(['network', 'disconnect', 'ps-cache-net', 'renamed'], /^renamed\|exited\|[^|]+\|\|bridge$/);
    } finally {
      await docker(b, 'rm', '-f', 'renamed');
      await docker(b, 'network', 'rm', 'ps-cache-net');
    }
  });
});

describe.skipIf(!usable)('policies and health', () => {
  it('restarts on failure up to its count, and always after an exit', async () => {
    await ok(b, 'run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3');
    await until('two restarts', async () => (await ok(b, 'inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'flaky')) === '2 exited');
    expect(await ok(b, 'inspect', '-f', '{{.State.ExitCode}}', 'flaky')).toBe('3');
    await ok(b, 'run', '-d', '--name', 'again', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.3; exit 0');
    await until('a restart after a clean exit', async () => Number(await ok(b, 'inspect', '-f', '{{.RestartCount}}', 'again')) >= 1);
    await ok(b, 'stop', 'again');
    const count = await ok(b, 'inspect', '-f', '{{.RestartCount}}', 'again');
    await sleep(800);
    expect(await ok(b, 'inspect', '-f', '{{.RestartCount}} {{.State.Running}}', 'again')).toBe(`${count} false`);
  });

  it('marks a container unhealthy after its retries and says so in events', async () => {
    await ok(b, 'run', '-d', '--name', 'sick', '--health-cmd', 'echo checking; exit 1', '--health-interval', '200ms', '--health-retries', '2', 'busybox', 'sleep', '1000');
    await until('unhealthy', async () => (await ok(b, 'inspect', '-f', '{{.State.Health.Status}}', 'sick')) === 'unhealthy');
    const health = JSON.parse(await ok(b, 'inspect', '-f', '{{json .State.Health}}', 'sick'));
    expect(health.FailingStreak).toBeGreaterThanOrEqual(2);
    expect(health.Log.at(-1)).toMatchObject({ ExitCode: 1, Output: 'checking\n' });
    expect(await ok(b, 'ps', '--filter', 'health=unhealthy', '--format', '{{.Names}} {{.Status}}')).toMatch(/^sick Up .* \(unhealthy\)$/);
    // `--until 0s` is whole seconds: let the current second pass so the event is inside the window.
    await sleep(1100);
    const events = await ok(b, 'events', '--since', '60s', '--until', '0s', '--filter', 'container=sick', '--format', '{{.Action}}');
    expect(events.split('\n')).toContain('health_status: unhealthy');
  });

  it('reports an OOM kill', async () => {
    const r = await docker(b, 'run', '--name', 'hog', '-m', '8m', '--memory-swap', '8m', 'busybox', 'sh', '-c', 'x=a; while true; do x=$x$x; done');
    expect(r.code).toBe(137);
    expect(await ok(b, 'inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'hog')).toBe('true 137');
  });
});

describe.skipIf(!usable)('bad input, with dockerd statuses and words', () => {
  it('refuses what dockerd refuses', async () => {
    const cases: [string[], number, string][] = [
      [['run', '--rm', 'busybox', 'nope'], 127, 'exec: "nope": executable file not found in $PATH'],
      [['run', '--rm', 'busybox', '/etc/passwd'], 126, 'exec: "/etc/passwd": permission denied'],
      [['run', '--rm', '--name', 'bad name', 'busybox', 'true'], 125, 'Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed'],
      [['run', '--rm', '-m', '1m', 'busybox', 'true'], 125, 'Minimum memory limit allowed is 6MB'],
      [['run', '--rm', '--memory-swap', '10m', '-m', '20m', 'busybox', 'true'], 125, 'Minimum memoryswap limit should be larger than memory limit, see usage'],
      [['run', '--rm', '--cpus', '1', '--cpu-period', '1000', 'busybox', 'true'], 125, 'Conflicting options: Nano CPUs and CPU Period cannot both be set'],
      [['run', '--rm', '-u', 'nobody2', 'busybox', 'true'], 125, 'unable to find user nobody2: no matching entries in passwd file'],
      [['run', '--rm', '--cap-add', 'FLY', 'busybox', 'true'], 125, 'invalid CapAdd: unknown capability: "CAP_FLY"'],
      [['kill', 'nosuch'], 1, 'Cannot kill container: nosuch: No such container: nosuch'],
      [['exec', 'nosuch', 'true'], 1, 'No such container: nosuch'],
    ];
    for (const [args, code, words] of cases) {
      const r = await docker(b, ...args);
      expect({ args, code: r.code, words: r.stderr.includes(words) }).toEqual({ args, code, words: true });
    }
    // The CLI pulls when create says 404; the API's answer itself is dockerd's.
    expect(await api(b.socket, 'POST', '/v1.51/containers/create', { Image: 'no-such-image-here:1' })).toEqual({ status: 404, body: { message: 'No such image: no-such-image-here:1' } });
    expect(await api(b.socket, 'POST', '/v1.51/containers/create?name=a', { Image: 'busybox' })).toMatchObject({ status: 400 });
    await ok(b, 'create', '--name', 'taken', 'busybox', 'true');
    const id = await ok(b, 'inspect', '-f', '{{.Id}}', 'taken');
    expect((await docker(b, 'create', '--name', 'taken', 'busybox', 'true')).stderr).toContain(
      `Conflict. The container name "/taken" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
    await ok(b, 'run', '-d', '--name', 'busy', 'busybox', 'sleep', '100');
    expect((await docker(b, 'rm', 'busy')).stderr).toMatch(/You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove/);
  });

  it('answers like the reference dockerd for the same mistakes', async () => {
    const ref = startReferenceDockerd();
    if (!ref) return;
    for (const args of [['-m', '1m'], ['--cpus', '1', '--cpu-period', '1000'], ['-u', 'nobody2'], ['--name', 'x y']]) {
      const theirs = await docker(ref, 'run', '--rm', ...args, 'busybox:ref', 'true');
      const ours = await docker(b, 'run', '--rm', ...args, 'busybox', 'true');
      expect(ours.code).toBe(theirs.code);
      expect(ours.stderr.split('\n')[0]).toBe(theirs.stderr.split('\n')[0]);
    }
  });
});

describe.skipIf(!usable)('live restore', () => {
  it('keeps containers running through a berthd kill -9, records exits that happened meanwhile', async () => {
    const d = await startBerthd();
    const dataRoot = d.dataRoot;
    const execRoot = d.execRoot;
    let second: Berthd | undefined;
    try {
      await ok(d, 'load', '-i', (await ensureFixtures()).busybox.dockerArchive);
      await ok(d, 'run', '-dit', '--name', 'survivor', 'busybox', 'sh');
      await ok(d, 'run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'i=0; while true; do echo t$i; i=$((i+1)); sleep 0.1; done');
      await ok(d, 'run', '-d', '--name', 'leaver', 'busybox', 'sh', '-c', 'sleep 1; exit 42');
      await ok(d, 'run', '-d', '--name', 'phoenix', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 1; exit 1');
      await ok(d, 'run', '-d', '--name', 'parked', '--restart', 'unless-stopped', 'busybox', 'sleep', '1000');
      await ok(d, 'stop', '-t', '0', 'parked');
      const pid = await ok(d, 'inspect', '-f', '{{.State.Pid}}', 'survivor');
      await d.stop({ keepState: true, signal: 'SIGKILL' });
      await sleep(1500);
      second = await startBerthd({ dataRoot, execRoot });
      const s = second;
      expect(await ok(s, 'inspect', '-f', '{{.State.Running}} {{.State.Pid}}', 'survivor')).toBe(`true ${pid}`);
      expect(await ok(s, 'inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'leaver')).toBe('exited 42');
      // The restart policy applies to what exited while berthd was away; a stopped unless-stopped stays stopped.
      await until('phoenix restarted', async () => Number(await ok(s, 'inspect', '-f', '{{.RestartCount}}', 'phoenix')) >= 1);
      expect(await ok(s, 'inspect', '-f', '{{.State.Running}}', 'parked')).toBe('false');
      const follow = docker(s, 'logs', '-f', '--tail', '1', 'ticker');
      await sleep(600);
      await ok(s, 'stop', '-t', '1', 'ticker');
      expect((await follow).stdout.trim().split('\n').length).toBeGreaterThan(2);
      const t = new Terminal('docker attach survivor', s.env);
      terminals.push(t);
      await sleep(500);
      t.type('echo still-$((40+2))');
      await t.waitFor(/^still-42$/m);
      await removeAllAndCheck(s);
    } finally {
      await (second ?? d).stop();
      if (second) rmSync(d.dir, { recursive: true, force: true });
    }
  });
});
