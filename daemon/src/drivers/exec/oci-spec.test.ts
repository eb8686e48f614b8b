import { describe, expect, it } from 'vitest';
import { buildSpec, mergeEnv, parseSize, type SpecHost, type SpecInput } from './oci-spec';
import { resolveUser } from './user';
import { capabilitySet, DEFAULT_CAPABILITIES } from './capabilities';
import { translateSeccomp, seccompFor, type DockerSeccompProfile } from './seccomp';
const defaultProfile = defaultProfileJson as DockerSeccompProfile;
import defaultProfileJson from './seccomp-default.json';
import type { HostConfig, ContainerConfig } from '../../container/types';

const host = (over: Partial<SpecHost> = {}): SpecHost => ({
  cgroupVersion: '1', cgroupParent: '/berth', kernel: '6.1.0', goarch: 'amd64',
  hardLimits: { RLIMIT_NOFILE: 20000 }, swapAccounting: true, initBinary: '/usr/bin/tini-static', ...over,
});

const input = (hc: HostConfig = {}, config: ContainerConfig = {}, over: Partial<SpecInput> = {}): SpecInput => ({
  id: 'c'.repeat(64), rootfs: '/r', path: 'sh', args: ['-c', 'true'],
  config: { Hostname: 'cccccccccccc', ...config }, hostConfig: hc,
  user: { uid: 0, gid: 0, additionalGids: [0], home: '/root' },
  etcFiles: { hosts: '/c/hosts', hostname: '/c/hostname', resolvConf: '/c/resolv.conf' },
  host: host(), ...over,
});

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nweb:x:1000:1000::/home/web:/bin/sh\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\nweb:x:1000:\naudio:x:29:web\nvideo:x:44:\n';

describe('user resolution', () => {
  it('resolves names and ids through passwd and group', () => {
    expect(resolveUser('', [], PASSWD, GROUP)).toMatchObject({ uid: 0, gid: 0 });
    expect(resolveUser('web', [], PASSWD, GROUP)).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 29], home: '/home/web' });
    expect(resolveUser('nobody:video', [], PASSWD, GROUP)).toMatchObject({ uid: 65534, gid: 44, additionalGids: [44] });
    expect(resolveUser('4242:4343', ['video', '7'], PASSWD, GROUP)).toEqual({ uid: 4242, gid: 4343, additionalGids: [4343, 44, 7], home: '/' });
  });
  it('refuses unknown names with runc words', () => {
    expect(() => resolveUser('ghost', [], PASSWD, GROUP)).toThrow('unable to find user ghost: no matching entries in passwd file');
    expect(() => resolveUser('web:ghosts', [], PASSWD, GROUP)).toThrow('unable to find group ghosts: no matching entries in group file');
    expect(() => resolveUser('0', ['nope'], PASSWD, GROUP)).toThrow('Unable to find group nope');
    expect(() => resolveUser('web', [], undefined, undefined)).toThrow(/unable to find user web/);
  });
});

describe('capabilities', () => {
  it('adds and drops on the default set, accepting any case and ALL', () => {
    expect(capabilitySet([], [], false)).toEqual(DEFAULT_CAPABILITIES);
    const set = capabilitySet(['sys_admin', 'CAP_NET_ADMIN'], ['chown'], false);
    expect(set).toContain('CAP_SYS_ADMIN');
    expect(set).toContain('CAP_NET_ADMIN');
    expect(set).not.toContain('CAP_CHOWN');
    expect(capabilitySet(['NET_BIND_SERVICE'], ['ALL'], false)).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(capabilitySet(['ALL'], ['MKNOD'], false)).not.toContain('CAP_MKNOD');
    expect(capabilitySet([], [], true)).toContain('CAP_SYS_ADMIN');
    expect(() => capabilitySet(['FLY'], [], false)).toThrow('invalid CapAdd: unknown capability: "CAP_FLY"');
  });
});

describe('seccomp', () => {
  const names = (s: ReturnType<typeof translateSeccomp>) => s.syscalls.flatMap((r) => r.names);
  it('translates the default profile for the host architecture and capabilities', () => {
    const s = translateSeccomp(defaultProfile, { goarch: 'amd64', kernel: '6.1.0' }, DEFAULT_CAPABILITIES);
    expect(s.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(s.defaultErrnoRet).toBe(1);
    expect(s.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(names(s)).toContain('arch_prctl');
    expect(names(s)).not.toContain('s390_pci_mmio_read');
    // mount needs CAP_SYS_ADMIN; clone is limited by flags without it.
    expect(names(s)).not.toContain('mount');
    expect(s.syscalls.find((r) => r.names.includes('clone'))?.args?.[0]?.op).toBe('SCMP_CMP_MASKED_EQ');
    expect(s.syscalls.find((r) => r.names.includes('clone3'))?.errnoRet).toBe(38);
  });
  it('opens syscalls to added capabilities and follows arm64', () => {
    const withAdmin = translateSeccomp(defaultProfile, { goarch: 'amd64', kernel: '6.1.0' }, [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
    expect(names(withAdmin)).toContain('mount');
    expect(withAdmin.syscalls.some((r) => r.names.includes('clone3') && r.errnoRet === 38)).toBe(false);
    const arm = translateSeccomp(defaultProfile, { goarch: 'arm64', kernel: '6.1.0' }, DEFAULT_CAPABILITIES);
    expect(arm.architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(names(arm)).not.toContain('arch_prctl');
  });
  it('honours unconfined, custom profiles and privileged', () => {
    const h = { goarch: 'amd64', kernel: '6.1.0' };
    expect(seccompFor(['seccomp=unconfined'], false, h, [])).toBeUndefined();
    expect(seccompFor([], true, h, [])).toBeUndefined();
    const custom = seccompFor([`seccomp=${JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO' }] })}`], false, h, []);
    expect(custom).toEqual({ defaultAction: 'SCMP_ACT_ALLOW', architectures: [], syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO' }] });
    expect(() => seccompFor(['seccomp={bad'], false, h, [])).toThrow(/Decoding seccomp profile failed/);
  });
});

describe('buildSpec', () => {
  it('gives Docker defaults to a plain container', () => {
    const spec = buildSpec(input({}, { Tty: true, Env: ['A=1', 'PATH=/bin'] }));
    expect(spec.process.args).toEqual(['sh', '-c', 'true']);
    expect(spec.process.env).toEqual(['PATH=/bin', 'HOSTNAME=cccccccccccc', 'TERM=xterm', 'A=1']);
    expect(spec.process.terminal).toBe(true);
    expect(spec.process.cwd).toBe('/');
    expect(spec.hostname).toBe('cccccccccccc');
    expect(spec.process.capabilities.bounding).toEqual(DEFAULT_CAPABILITIES);
    expect(spec.linux.namespaces.map((n) => n.type).sort()).toEqual(['ipc', 'mount', 'network', 'pid', 'uts']);
    expect(spec.linux.maskedPaths).toContain('/proc/kcore');
    expect(spec.linux.readonlyPaths).toContain('/proc/sys');
    expect(spec.linux.cgroupsPath).toBe(`/berth/${'c'.repeat(64)}`);
    expect(spec.linux.seccomp?.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(spec.mounts.find((m) => m.destination === '/dev/shm')?.options).toContain(`size=${64 * 1024 * 1024}`);
    expect(spec.mounts.find((m) => m.destination === '/etc/hosts')?.source).toBe('/c/hosts');
    // parents before children
    const dests = spec.mounts.map((m) => m.destination);
    expect(dests.indexOf('/dev')).toBeLessThan(dests.indexOf('/dev/pts'));
    expect(spec.linux.resources.devices[0]).toEqual({ allow: false, access: 'rwm' });
  });

  it('maps resources to the cgroup fields', () => {
    const spec = buildSpec(input({ Memory: 64 << 20, MemorySwap: 128 << 20, MemoryReservation: 32 << 20, NanoCpus: 1.5e9, CpuShares: 512, CpusetCpus: '0', PidsLimit: 50, OomKillDisable: true }));
    expect(spec.linux.resources.memory).toEqual({ limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, disableOOMKiller: true });
    expect(spec.linux.resources.cpu).toEqual({ shares: 512, period: 100000, quota: 150000, cpus: '0' });
    expect(spec.linux.resources.pids).toEqual({ limit: 50 });
  });

  it('adapts to cgroup v2: private cgroupns, no OOM-killer switch', () => {
    const spec = buildSpec(input({ OomKillDisable: true, Memory: 64 << 20 }, {}, { host: host({ cgroupVersion: '2' }) }));
    expect(spec.linux.namespaces.map((n) => n.type)).toContain('cgroup');
    expect(spec.linux.resources.memory).toEqual({ limit: 64 << 20 });
  });

  it('clamps ulimits to the daemon hard limits', () => {
    const spec = buildSpec(input({ Ulimits: [{ Name: 'nofile', Soft: 1048576, Hard: 1048576 }, { Name: 'nproc', Soft: 10, Hard: 20 }] }));
    expect(spec.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }, { type: 'RLIMIT_NPROC', soft: 10, hard: 20 }]);
    expect(() => buildSpec(input({ Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] }))).toThrow('invalid ulimit type: bogus');
  });

  it('applies privileged, read-only rootfs, no-new-privileges, init, tmpfs, sysctls and devices', () => {
    const priv = buildSpec(input({ Privileged: true }));
    expect(priv.linux.maskedPaths).toEqual([]);
    expect(priv.linux.seccomp).toBeUndefined();
    expect(priv.linux.resources.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(priv.linux.devices.some((d) => d.path === '/dev/null')).toBe(true);

    const spec = buildSpec(input({
      ReadonlyRootfs: true, SecurityOpt: ['no-new-privileges'], Init: true, Tmpfs: { '/run': 'size=1m,exec' }, ShmSize: 1 << 20,
      Sysctls: { 'net.ipv4.ip_forward': '1' }, Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }],
    }, { Domainname: 'example.org', WorkingDir: '/srv' }));
    expect(spec.root.readonly).toBe(true);
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.process.args).toEqual(['/sbin/docker-init', '--', 'sh', '-c', 'true']);
    expect(spec.mounts.find((m) => m.destination === '/sbin/docker-init')?.source).toBe('/usr/bin/tini-static');
    expect(spec.mounts.find((m) => m.destination === '/run')?.options).toEqual(['nosuid', 'nodev', 'size=1m', 'exec']);
    expect(spec.mounts.find((m) => m.destination === '/dev/shm')?.options).toContain(`size=${1 << 20}`);
    expect(spec.mounts.find((m) => m.destination === '/etc/hostname')?.options).toContain('ro');
    expect(spec.linux.sysctl).toEqual({ 'net.ipv4.ip_forward': '1' });
    expect(spec.linux.devices).toEqual([expect.objectContaining({ path: '/dev/mynull', type: 'c', major: 1, minor: 3 })]);
    expect(spec.linux.resources.devices.at(-1)).toEqual({ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' });
    expect(spec.domainname).toBe('example.org');
    expect(spec.process.cwd).toBe('/srv');
    expect(() => buildSpec(input({ Devices: [{ PathOnHost: '/dev/nope', PathInContainer: '', CgroupPermissions: 'rwm' }] }))).toThrow(
      'error gathering device information while adding custom device "/dev/nope": no such file or directory',
    );
  });

  it('shares host namespaces on request', () => {
    const spec = buildSpec(input({ NetworkMode: 'host', PidMode: 'host', IpcMode: 'host', UTSMode: 'host' }));
    expect(spec.linux.namespaces.map((n) => n.type)).toEqual(['mount']);
    expect(spec.hostname).toBeUndefined();
  });
});

describe('helpers', () => {
  it('merges env by key keeping position', () => {
    expect(mergeEnv(['A=1', 'B=2'], ['B=3', 'C=4'])).toEqual(['A=1', 'B=3', 'C=4']);
  });
  it('parses sizes', () => {
    expect(parseSize('64m')).toBe(64 << 20);
    expect(parseSize('1g')).toBe(1 << 30);
    expect(parseSize('100')).toBe(100);
    expect(() => parseSize('lots')).toThrow();
  });
});
