// Starts a real berthd (the bundle in dist/) on a temporary socket with temporary roots, for
// end-to-end tests and benchmarks. Each instance is private: its own data root, exec root, socket.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
/** BERTH_BERTHD_BUNDLE tests another build (a branch's bundle) with the same tests. */
export const berthdBundle = process.env.BERTH_BERTHD_BUNDLE || path.join(repoRoot, 'dist', 'berthd.cjs');

export interface BerthdOptions {
  /** Extra flags after the temporary -H/--data-root/--exec-root/--pidfile. */
  extraArgs?: string[];
  /** daemon.json content; by default an empty config file so the host's /etc/berth is not read. */
  config?: Record<string, unknown>;
  /** Reuse a data root (live-restore tests restart on the same state). */
  dataRoot?: string;
  execRoot?: string;
  /** Extra environment for berthd (e.g. BERTH_EXEC=runtime). */
  env?: NodeJS.ProcessEnv;
}

export interface Berthd {
  dir: string;
  socket: string;
  dataRoot: string;
  execRoot: string;
  configFile: string;
  /** Environment for the docker CLI: DOCKER_HOST pointing at this berthd. */
  env: NodeJS.ProcessEnv;
  process: ChildProcess;
  /** Everything berthd logged so far. */
  logs(): string;
  /** SIGTERM and wait; the temporary directory is removed unless keepState. */
  stop(options?: { keepState?: boolean; signal?: NodeJS.Signals }): Promise<number | null>;
}

/** Whether GET `route` on the socket answers 200 within `timeoutMs`. */
function answers200(socket: string, route: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: route, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

/** Answers true once GET /_ping succeeds on the socket. */
export function ping(socket: string): Promise<boolean> {
  return answers200(socket, '/_ping', 1000);
}

/** GET /version answers once berthd's components are open (it holds the request until then). */
function engineReady(socket: string): Promise<boolean> {
  return answers200(socket, '/version', 60_000);
}

export async function startBerthd(options: BerthdOptions = {}): Promise<Berthd> {
  if (!existsSync(berthdBundle)) throw new Error(`${berthdBundle} is missing: run npm run build`);
  const dir = mkdtempSync(path.join(tmpdir(), 'berthd-test-'));
  const socket = path.join(dir, 'berthd.sock');
  const dataRoot = options.dataRoot ?? path.join(dir, 'root');
  const execRoot = options.execRoot ?? path.join(dir, 'exec');
  const configFile = path.join(dir, 'daemon.json');
  // Bridges and nftables tables are per host: each test berthd gets its own, so parallel tests never
  // share or remove each other's (production uses berth0 and `inet berth`).
  // Named after the data root, so a restart on the same state (live restore) finds its bridge again.
  const unique = createHash('sha256').update(dataRoot).digest('hex').slice(0, 8);
  writeFileSync(configFile, JSON.stringify({ bridge: `bt${unique}`, 'firewall-table': `berth_test_${unique}`, ...options.config }));
  const args = [
    berthdBundle,
    '-H', `unix://${socket}`, '--data-root', dataRoot, '--exec-root', execRoot,
    '--pidfile', path.join(dir, 'berthd.pid'), '--config-file', configFile,
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => (running = false));

  for (let i = 0; i < 200 && running; i++) {
    if (await ping(socket)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // berthd answers /_ping before its components have opened: started means the engine is ready too
  if (!running || !(await ping(socket)) || !(await engineReady(socket))) {
    // a start that failed after listening exits on its own, with the reason as its last line
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`berthd did not start:\n${output}`);
  }
  return {
    dir,
    socket,
    dataRoot,
    execRoot,
    configFile,
    env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(dir, 'docker-config') },
    process: child,
    logs: () => output,
    async stop({ keepState = false, signal = 'SIGTERM' } = {}) {
      if (running) child.kill(signal);
      const code = await exited;
      if (!keepState) {
        // A berthd that was killed (not shut down) leaves its bridge and nftables table for the next
        // start on the same state (live restore); the test is over, so they go now.
        const conf = JSON.parse(readFileSync(configFile, 'utf8')) as { bridge?: string; 'firewall-table'?: string };
        if (conf['firewall-table']) spawnSync('nft', ['delete', 'table', 'inet', conf['firewall-table']], { stdio: 'ignore' });
        if (conf.bridge) spawnSync('ip', ['link', 'del', conf.bridge], { stdio: 'ignore' });
        rmSync(dir, { recursive: true, force: true });
      }
      return code;
    },
  };
}
