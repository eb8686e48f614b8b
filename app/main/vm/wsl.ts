// WSL 2 (Windows): the root tree is imported as a distribution and berthd runs inside it under
// Microsoft's kernel. WSL forwards the distribution's 127.0.0.1 listeners to Windows' localhost, so
// the host socket (a named pipe) forwards to the guest's loopback API listener.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type VmBackend, type VmHandle, processExit } from './backend.js';
import type { VmConfig, VmPaths } from './config.js';
import { freeLoopbackPort } from './free-port.js';

export const WSL_DISTRO = 'berth';

export const wslImportArgs = (distro: string, installDir: string, tarball: string) => ['--import', distro, installDir, tarball, '--version', '2'];
export const wslTerminateArgs = (distro: string) => ['--terminate', distro];
export const wslUnregisterArgs = (distro: string) => ['--unregister', distro];
export const wslListArgs = () => ['--list', '--verbose'];

/** Runs berth-wsl-init as root; it stays in the foreground for as long as the engine runs. */
export function wslStartArgs(distro: string, apiPort: number, shares: string[]): string[] {
  return ['--distribution', distro, '--user', 'root', '--exec', '/usr/sbin/berth-wsl-init', 'start', `--api-port=${apiPort}`,
    ...shares.map((s) => `--share=${windowsPathToWsl(s)}`)];
}

export function wslStopArgs(distro: string): string[] {
  return ['--distribution', distro, '--user', 'root', '--exec', '/usr/sbin/berth-wsl-init', 'stop'];
}

/** C:\Users\me → /mnt/c/Users/me: WSL mounts every Windows drive under /mnt. */
export function windowsPathToWsl(p: string): string {
  const m = /^([A-Za-z]):[\\/]?(.*)$/.exec(p);
  if (!m) {
    if (p.startsWith('/')) return p;
    throw new Error(`"${p}" is not an absolute Windows path (like C:\\Users\\me)`);
  }
  const rest = m[2]!.replace(/\\/g, '/').replace(/\/+$/, '');
  return `/mnt/${m[1]!.toLowerCase()}${rest ? `/${rest}` : ''}`;
}

export interface WslDistro { name: string; state: string; version: number; isDefault: boolean }

/** `wsl --list --verbose` writes UTF-16LE (with a BOM on some builds) on Windows. */
export function parseWslList(raw: Buffer | string): WslDistro[] {
  const text = typeof raw === 'string' ? raw : raw.includes(0) ? raw.toString('utf16le') : raw.toString('utf8');
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).slice(1);
  const out: WslDistro[] = [];
  for (const line of lines) {
    const m = /^\s*(\*)?\s*(\S+)\s+(\S+)\s+(\d+)\s*$/.exec(line);
    if (m) out.push({ isDefault: m[1] === '*', name: m[2]!, state: m[3]!, version: Number(m[4]) });
  }
  return out;
}

function run(args: string[]): Promise<{ code: number | null; out: Buffer }> {
  return new Promise((resolve) => {
    const c = spawn('wsl.exe', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    c.stdout.on('data', (d: Buffer) => chunks.push(d));
    c.stderr.on('data', (d: Buffer) => chunks.push(d));
    c.on('error', () => resolve({ code: null, out: Buffer.concat(chunks) }));
    c.on('exit', (code) => resolve({ code, out: Buffer.concat(chunks) }));
  });
}

export class WslBackend implements VmBackend {
  readonly kind = 'wsl' as const;
  constructor(private readonly distro = WSL_DISTRO) {}

  async unavailableReason(): Promise<string | undefined> {
    if (process.platform !== 'win32') return 'WSL runs on Windows only';
    const r = await run(['--status']);
    return r.code === 0 ? undefined : 'WSL 2 is not installed: run "wsl --install --no-distribution" as administrator, then restart Windows';
  }

  async start(config: VmConfig, _paths: VmPaths): Promise<VmHandle> {
    const listed = parseWslList((await run(wslListArgs())).out);
    if (!listed.some((d) => d.name === this.distro)) {
      if (!existsSync(config.image.rootfsTar)) throw new Error(`the WSL root (${config.image.rootfsTar}) is missing: build it with "BERTH_VM_WSL=1 npm run build:vm"`);
      const r = await run(wslImportArgs(this.distro, path.join(config.stateDir, 'wsl'), config.image.rootfsTar));
      if (r.code !== 0) throw new Error(`wsl --import failed: ${r.out.toString('utf16le').trim()}`);
    }
    const port = await freeLoopbackPort();
    const child = spawn('wsl.exe', wslStartArgs(this.distro, port, config.shares), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4096); });
    const { exited, isRunning } = processExit(child);
    return {
      pid: child.pid,
      accelerator: 'WSL 2',
      apiTarget: { kind: 'tcp', host: '127.0.0.1', port },
      exited,
      isRunning,
      processOutput: () => stderr,
      requestPowerOff: async () => isRunning() && (await run(wslStopArgs(this.distro))).code === 0,
      kill: async () => {
        await run(wslTerminateArgs(this.distro));
        child.kill();
        await exited;
      },
    };
  }
}
