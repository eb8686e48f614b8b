// The OCI runtimes berthd can drive (runc, crun): where they are, which version, whether they
// work on this host, and the runtime commands berthd runs itself (state, pause, resume, delete).
// crun 1.8 refuses hybrid cgroups ("cgroups in hybrid mode not supported"), so on such a host
// crun is reported unusable with that reason and the default falls back to runc.
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { writeFileAtomicSync } from '../../atomic-file';
import path from 'node:path';
import { promisify } from 'node:util';
import { invalidParameter, systemError, notFound } from '../../errors';
import { hostCgroupMounts, unifiedControllers, type CgroupMounts } from './cgroups';
import { runCommand } from '../spawner/spawner';

const run = promisify(execFile);

export interface OciRuntime {
  name: string;
  path: string;
  version: string;
  commit: string;
  /** False when the runtime is installed but cannot run containers on this host. */
  usable: boolean;
  /** Why it is not usable, in words `docker info` can show. */
  reason?: string;
}

export const KNOWN_RUNTIMES = ['runc', 'crun'] as const;

function which(name: string, searchPath = process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'): string | undefined {
  if (name.includes('/')) return name;
  for (const dir of searchPath.split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Parses `runc --version` / `crun --version`: "NAME version X", "commit: Y". */
export function parseVersion(output: string): { version: string; commit: string } {
  const version = /version\s+(\S+)/.exec(output)?.[1] ?? '';
  const commit = /^commit:\s*(\S+)/m.exec(output)?.[1] ?? '';
  return { version, commit };
}

/** Why a runtime cannot work with this cgroup layout, or undefined when it can. */
export function cgroupObstacle(name: string, version: string, mounts: CgroupMounts, controllersInUnified: string[]): string | undefined {
  if (path.basename(name) !== 'crun' || mounts.layout !== 'hybrid' || controllersInUnified.length === 0) return undefined;
  return `crun ${version} refuses hybrid cgroups (v1 controllers with ${controllersInUnified.join(', ')} enabled in the cgroup2 hierarchy at ${mounts.unified}): "cgroups in hybrid mode not supported"`;
}

/** A runtime binary's version and commit. */
export type VersionProbe = (bin: string) => Promise<{ version: string; commit: string }>;

/** Runs `BIN --version`. */
export const askVersion: VersionProbe = async (bin) => parseVersion((await run(bin, ['--version'], { timeout: 10_000 })).stdout);

/**
 * askVersion, remembered in `file` by the binary's identity (device, inode, size, modification and
 * change times: a reinstall changes them): a later start skips the process, which for runc is a Go
 * runtime's start, up to a second of the VM's boot under emulation.
 */
export function rememberedVersions(file: string, ask: VersionProbe = askVersion): VersionProbe {
  let known: Record<string, { version: string; commit: string }> = {};
  try {
    known = JSON.parse(readFileSync(file, 'utf8')) as typeof known;
  } catch {
    // none yet, or unreadable: asked again
  }
  return async (bin) => {
    const st = statSync(bin);
    const key = `${bin} ${st.dev}:${st.ino} ${st.size} ${st.mtimeMs} ${st.ctimeMs}`;
    const hit = known[key];
    if (hit) return hit;
    const answer = await ask(bin);
    known = { ...Object.fromEntries(Object.entries(known).filter(([k]) => !k.startsWith(`${bin} `))), [key]: answer };
    try {
      writeFileAtomicSync(file, JSON.stringify(known), { mode: 0o644, durable: false });
    } catch {
      // a cache: asked again next time
    }
    return answer;
  };
}

/** Finds each runtime (by name on PATH, or at the path given) and checks it can run here. */
export async function detectRuntimes(
  paths: Record<string, string> = {},
  mounts: CgroupMounts = hostCgroupMounts(),
  controllersInUnified: string[] = unifiedControllers(mounts),
  versionOf: VersionProbe = askVersion,
): Promise<OciRuntime[]> {
  const names = new Set<string>([...KNOWN_RUNTIMES, ...Object.keys(paths)]);
  // All asked at once: each --version is a process start, a visible moment when berthd boots in an
  // emulated VM.
  const found = await Promise.all([...names].map(async (name): Promise<OciRuntime | undefined> => {
    const bin = which(paths[name] ?? name);
    if (!bin) return undefined;
    let version = '';
    let commit = '';
    try {
      ({ version, commit } = await versionOf(bin));
    } catch (err) {
      return { name, path: bin, version, commit, usable: false, reason: `${bin} --version failed: ${(err as Error).message}` };
    }
    const obstacle = cgroupObstacle(path.basename(bin), version, mounts, controllersInUnified);
    return { name, path: bin, version, commit, usable: !obstacle, ...(obstacle ? { reason: obstacle } : {}) };
  }));
  return found.filter((r): r is OciRuntime => r !== undefined);
}

export interface RuntimeChoice {
  runtime: OciRuntime;
  /** Set when the wanted runtime could not be used and another was taken. */
  warning?: string;
}

/** The runtime for `wanted` (the default-runtime setting or a container's --runtime). The
 * default falls back to a usable one with a warning; an explicit per-container choice does not. */
export function chooseRuntime(runtimes: OciRuntime[], wanted: string, fallback = true): RuntimeChoice {
  const match = runtimes.find((r) => r.name === wanted);
  if (match?.usable) return { runtime: match };
  const why = match ? match.reason ?? 'it is not usable' : 'it is not installed';
  const other = fallback ? runtimes.find((r) => r.usable) : undefined;
  if (other) return { runtime: other, warning: `default runtime ${wanted} is not used: ${why}; using ${other.name} ${other.version}` };
  if (!match) throw invalidParameter(`unknown or invalid runtime name: ${wanted}`);
  throw invalidParameter(`runtime ${wanted} cannot run containers on this host: ${why}`);
}

/** What `docker info` shows about runtimes (the shape of the engine's RuntimeInfo). */
export function runtimeInfo(runtimes: OciRuntime[], configured: string): { runtimes: Record<string, { path: string; status?: Record<string, string> }>; defaultRuntime: string; warnings: string[] } {
  const warnings: string[] = [];
  let defaultRuntime = configured;
  try {
    const choice = chooseRuntime(runtimes, configured);
    defaultRuntime = choice.runtime.name;
    if (choice.warning) warnings.push(`WARNING: ${choice.warning}`);
  } catch (err) {
    warnings.push(`WARNING: ${(err as Error).message}`);
  }
  for (const r of runtimes) if (!r.usable && r.name !== configured) warnings.push(`WARNING: runtime ${r.name} is not usable: ${r.reason}`);
  const entries = runtimes.filter((r) => r.usable).map((r) => [r.name, { path: r.path, status: { version: r.version, commit: r.commit } }] as const);
  return { runtimes: Object.fromEntries(entries), defaultRuntime, warnings };
}

/** `runtime state` as the OCI runtime spec defines it. */
export interface RuntimeState {
  ociVersion: string;
  id: string;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  pid: number;
  bundle: string;
}

/** The runtime commands berthd runs directly, against one --root. */
export class RuntimeCli {
  constructor(readonly runtime: OciRuntime, readonly root: string) {}

  private async cmd(args: string[]): Promise<string> {
    try {
      const r = await runCommand(this.runtime.path, ['--root', this.root, ...args], { timeoutMs: 30_000 });
      if (r.code === 0) return r.stdout.toString();
      throw Object.assign(new Error(r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`), { stderr: r.stderr.toString() });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      const msg = (e.stderr ?? '').trim() || e.message;
      if (/does not exist|not found|container .* not exist/i.test(msg)) throw notFound(`No such container: ${args[args.length - 1]}`);
      throw systemError(`${this.runtime.name} ${args[0]} failed: ${msg}`, err);
    }
  }

  async state(id: string): Promise<RuntimeState> {
    return JSON.parse(await this.cmd(['state', id])) as RuntimeState;
  }
  async pause(id: string): Promise<void> {
    await this.cmd(['pause', id]);
  }
  async resume(id: string): Promise<void> {
    await this.cmd(['resume', id]);
  }
  async delete(id: string): Promise<void> {
    await this.cmd(['delete', '--force', id]);
  }
  /** Ids of the containers this root knows. */
  async list(): Promise<string[]> {
    const out = await this.cmd(['list', '--format', 'json']);
    const list = JSON.parse(out || 'null') as { id: string }[] | null;
    return (list ?? []).map((c) => c.id);
  }
}
