import { describe, expect, it } from 'vitest';
import { buildSpec, type SpecHost } from '../drivers/exec/oci-spec';
import { DEFAULT_CGROUP_PARENT, specHostFor } from './host';
import { validateHostConfig } from './create-config';
import type { HostConfig } from './types';

const host: SpecHost = {
  cgroupVersion: '1', cgroupParent: DEFAULT_CGROUP_PARENT, kernel: '6.1.0', goarch: 'amd64',
  hardLimits: {}, swapAccounting: true, initBinary: undefined,
};
const id = 'c'.repeat(64);
const cgroupsPath = (hc: HostConfig): string | undefined =>
  buildSpec({
    id, rootfs: '/r', path: 'sh', args: [], config: {}, hostConfig: hc,
    user: { uid: 0, gid: 0, additionalGids: [0], home: '/root' },
    etcFiles: { hosts: '/c/hosts', hostname: '/c/hostname', resolvConf: '/c/resolv.conf' },
    host: specHostFor(host, hc),
  }).linux?.cgroupsPath;

describe('HostConfig.CgroupParent', () => {
  it('puts the container cgroup under /berth unless the request names a parent', () => {
    expect(DEFAULT_CGROUP_PARENT).toBe('/berth');
    expect(cgroupsPath({})).toBe(`/berth/${id}`);
    expect(cgroupsPath({ CgroupParent: '' })).toBe(`/berth/${id}`);
    expect(cgroupsPath({ CgroupParent: '/tenants/blue' })).toBe(`/tenants/blue/${id}`);
    // Joined as dockerd's cgroupfs driver joins it: cleaned, relative kept relative.
    expect(cgroupsPath({ CgroupParent: '/tenants//blue/' })).toBe(`/tenants/blue/${id}`);
    expect(cgroupsPath({ CgroupParent: 'mine' })).toBe(`mine/${id}`);
    expect(cgroupsPath({ CgroupParent: '/' })).toBe(`/${id}`);
  });

  it('refuses a parent that climbs out of the hierarchy or is not one path', () => {
    const limits = { ncpu: 2, swapAccounting: true, cgroupVersion: '1' as const };
    expect(() => validateHostConfig({ CgroupParent: '/a/../../etc' }, limits)).toThrow('invalid cgroup-parent /a/../../etc: a cgroup path cannot contain ".."');
    expect(() => validateHostConfig({ CgroupParent: '/a\nb' }, limits)).toThrow(/a cgroup path cannot contain control characters/);
    expect(() => validateHostConfig({ CgroupParent: 42 as unknown as string }, limits)).toThrow(/must be a cgroup path/);
    expect(() => validateHostConfig({ CgroupParent: '/tenants/blue' }, limits)).not.toThrow();
  });
});
