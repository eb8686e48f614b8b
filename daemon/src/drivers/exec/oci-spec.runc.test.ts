// The spec builder against the real runtime: a busybox rootfs run by runc with the spec we build
// must come up with the user, hostname, capabilities, limits and /proc masking we asked for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, copyFileSync, rmSync, rmdirSync, readdirSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildSpec, type SpecHost } from './oci-spec';
import { resolveUser } from './user';
import type { HostConfig } from '../../container/types';

const RUNC = '/usr/sbin/runc';
const BUSYBOX = '/bin/busybox';
const usable = process.getuid?.() === 0 && existsSync(RUNC) && existsSync(BUSYBOX);
const hardNofile = Number(/Max open files\s+\S+\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 1024);

const cgroupParent = `/berth-spec-test-${process.pid}`;
let dir: string;
let rootfs: string;
beforeAll(() => {
  if (!usable) return;
  dir = mkdtempSync(path.join(tmpdir(), 'berth-spec-'));
  rootfs = path.join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(path.join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, path.join(rootfs, 'bin/busybox'));
  for (const applet of ['sh', 'id', 'hostname', 'cat', 'grep', 'echo', 'ls', 'wc', 'touch', 'unshare']) symlinkSync('busybox', path.join(rootfs, 'bin', applet));
  writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000::/home/web:/bin/sh\n');
  writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nweb:x:1000:\naudio:x:29:web\n');
  for (const f of ['hosts', 'hostname', 'resolv.conf']) writeFileSync(path.join(dir, f), f === 'hostname' ? 'spectest\n' : '');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  // runc removes each container's cgroup; the parent we named is ours to remove.
  for (const root of ['/sys/fs/cgroup', ...listDirs('/sys/fs/cgroup')]) {
    const p = path.join(root, cgroupParent);
    if (existsSync(p)) rmdirSync(p);
  }
});

function listDirs(dirPath: string): string[] {
  try {
    return readdirSync(dirPath, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(dirPath, d.name));
  } catch {
    return [];
  }
}

function run(hc: HostConfig, user: string, script: string): { code: number; out: string; err: string } {
  const id = `berth-spec-${randomBytes(4).toString('hex')}`;
  const host: SpecHost = {
    cgroupVersion: existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1',
    cgroupParent, kernel: '6.1', goarch: process.arch === 'arm64' ? 'arm64' : 'amd64',
    hardLimits: { RLIMIT_NOFILE: hardNofile }, swapAccounting: false,
  };
  const spec = buildSpec({
    id, rootfs, path: 'sh', args: ['-c', script], config: { Hostname: 'spectest' }, hostConfig: hc,
    user: resolveUser(user, [], readFileSync(path.join(rootfs, 'etc/passwd'), 'utf8'), readFileSync(path.join(rootfs, 'etc/group'), 'utf8')),
    etcFiles: { hosts: path.join(dir, 'hosts'), hostname: path.join(dir, 'hostname'), resolvConf: path.join(dir, 'resolv.conf') },
    host,
  });
  const bundle = path.join(dir, id);
  mkdirSync(bundle);
  writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  const r = spawnSync(RUNC, ['--root', path.join(dir, 'runc-root'), 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 30_000 });
  spawnSync(RUNC, ['--root', path.join(dir, 'runc-root'), 'delete', '--force', id]);
  rmSync(bundle, { recursive: true, force: true });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe.skipIf(!usable)('spec under runc', () => {
  it('runs as the named user with its groups, hostname and default capabilities', () => {
    const r = run({}, 'web', 'id; hostname; grep CapEff /proc/self/status');
    expect(r.err).toBe('');
    expect(r.out).toContain('uid=1000(web) gid=1000(web) groups=29(audio),1000(web)');
    expect(r.out).toContain('spectest');
    // Docker's default set is 0x00000000a80425fb.
    expect(r.out).toMatch(/CapEff:\s+0000000000000000/); // an unprivileged user has no effective caps
    const root = run({}, '', 'grep CapEff /proc/self/status');
    expect(root.out).toMatch(/CapEff:\s+00000000a80425fb/);
  });

  it('masks /proc paths, keeps /proc/sys read-only, and clamps nofile', () => {
    const r = run({ Ulimits: [{ Name: 'nofile', Soft: 1048576, Hard: 1048576 }] }, '', 'cat /proc/timer_list | wc -c; echo 1 > /proc/sys/kernel/domainname && echo writable; ulimit -n; ulimit -Hn');
    const lines = r.out.trim().split('\n');
    expect(lines).toContain('0');
    expect(r.out).not.toContain('writable');
    expect(lines.slice(-2)).toEqual([String(hardNofile), String(hardNofile)]);
  });

  it('enforces seccomp and read-only rootfs, and lifts them when asked', () => {
    const denied = run({ ReadonlyRootfs: true }, '', 'touch /x 2>&1; unshare -U true 2>&1; echo done');
    expect(denied.out).toMatch(/Read-only file system/);
    expect(denied.out).toContain('done');
    const open = run({ CapAdd: ['SYS_ADMIN'], SecurityOpt: ['seccomp=unconfined'] }, '', 'grep Seccomp: /proc/self/status');
    expect(open.out).toMatch(/Seccomp:\s+0/);
    const confined = run({}, '', 'grep Seccomp: /proc/self/status');
    expect(confined.out).toMatch(/Seccomp:\s+2/);
  });
});
