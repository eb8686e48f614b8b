// Runtime detection: cgroup layouts from mountinfo, crun refused on hybrid hosts with a reason,
// the fallback to runc, and what this host actually has.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCgroupMounts } from './cgroups';
import { cgroupObstacle, chooseRuntime, detectRuntimes, parseVersion, runtimeInfo, type OciRuntime } from './runtime';
import { makeBundle, makeBusyboxRootfs } from './test-bundle';

const hybrid = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const pureV2 = '30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';

const rt = (name: string, usable = true, reason?: string): OciRuntime => ({ name, path: `/usr/bin/${name}`, version: '1.0', commit: 'c', usable, ...(reason ? { reason } : {}) });

describe('cgroup layout', () => {
  it('tells hybrid, v1 and v2 hosts apart', () => {
    const m = parseCgroupMounts(hybrid);
    expect(m.layout).toBe('hybrid');
    expect(m.unified).toBe('/sys/fs/cgroup/unified');
    expect(m.v1.memory).toBe('/sys/fs/cgroup/memory');
    expect(parseCgroupMounts(pureV2)).toMatchObject({ layout: 'v2', unified: '/sys/fs/cgroup' });
    expect(parseCgroupMounts(hybrid.split('\n').slice(0, 4).join('\n')).layout).toBe('v1');
  });
});

describe('runtime choice', () => {
  it('refuses crun on a hybrid host with controllers in cgroup2, and only then', () => {
    const m = parseCgroupMounts(hybrid);
    expect(cgroupObstacle('crun', '1.8.1', m, ['hugetlb'])).toMatch(/crun 1.8.1 refuses hybrid cgroups .*hugetlb/);
    expect(cgroupObstacle('crun', '1.8.1', m, [])).toBeUndefined();
    expect(cgroupObstacle('runc', '1.1.5', m, ['hugetlb'])).toBeUndefined();
    expect(cgroupObstacle('crun', '1.8.1', parseCgroupMounts(pureV2), ['cpu', 'memory'])).toBeUndefined();
  });

  it('falls back from an unusable default with a warning, but not for an explicit choice', () => {
    const list = [rt('runc'), rt('crun', false, 'hybrid cgroups')];
    expect(chooseRuntime(list, 'crun')).toMatchObject({ runtime: { name: 'runc' }, warning: expect.stringContaining('hybrid cgroups') });
    expect(() => chooseRuntime(list, 'crun', false)).toThrow(/cannot run containers on this host: hybrid cgroups/);
    expect(() => chooseRuntime(list, 'kata')).not.toThrow(); // the default falls back
    expect(() => chooseRuntime(list, 'kata', false)).toThrow(/unknown or invalid runtime name: kata/);
    const info = runtimeInfo(list, 'crun');
    expect(info.defaultRuntime).toBe('runc');
    expect(Object.keys(info.runtimes)).toEqual(['runc']);
    expect(info.warnings.join('\n')).toContain('hybrid cgroups');
  });

  it('parses runc and crun version output', () => {
    expect(parseVersion('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\n')).toEqual({ version: '1.1.5+ds1', commit: '1.1.5+ds1-1+deb12u1' });
    expect(parseVersion('crun version 1.8.1\ncommit: f8a096be\nrundir: /run/crun\n')).toEqual({ version: '1.8.1', commit: 'f8a096be' });
  });

  it('finds the runtimes installed here, and crun is refused exactly when it really fails', async () => {
    const found = await detectRuntimes();
    const runc = found.find((r) => r.name === 'runc');
    expect(runc).toMatchObject({ usable: true });
    expect(runc!.version).toMatch(/^\d+\.\d+/);
    const crun = found.find((r) => r.name === 'crun');
    if (!crun) return;
    // Ask crun itself: run a busybox container and see whether the host's cgroups stop it.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bcrun-'));
    try {
      const rootfs = await makeBusyboxRootfs(dir);
      const id = `crunprobe${process.pid}`;
      const bundle = await makeBundle(path.join(dir, 'b'), rootfs, { args: ['true'], cgroupsPath: `/berth-${id}` });
      const res = spawnSync(crun.path, ['--root', path.join(dir, 'root'), 'run', '--bundle', bundle, id], { encoding: 'utf8' });
      spawnSync(crun.path, ['--root', path.join(dir, 'root'), 'delete', '--force', id]);
      expect(crun.usable).toBe(res.status === 0);
      if (!crun.usable) expect(res.stderr).toMatch(/hybrid/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
