import { describe, expect, it } from 'vitest';
import { nativeExecDescription } from './native-exec';

const records = (b: Buffer | undefined) => b?.toString().split('\0').filter(Boolean);

describe('the native exec description', () => {
  it('turns the OCI process into the numbers the shim applies', () => {
    const r = records(nativeExecDescription({
      args: ['sh', '-c', 'echo a=b'],
      env: ['PATH=/bin', 'X=1=2'],
      cwd: '/tmp',
      user: { uid: 1000, gid: 1000, additionalGids: [5, 1000], umask: 18 },
      capabilities: { bounding: ['CAP_CHOWN', 'CAP_NET_ADMIN', 'CAP_CHECKPOINT_RESTORE'], effective: ['CAP_NET_ADMIN'], permitted: ['CAP_NET_ADMIN'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1000, hard: 2000 }, { type: 'RLIMIT_CORE', soft: -1, hard: 2 ** 64 - 1 }],
      noNewPrivileges: true,
      oomScoreAdj: 300,
      consoleSize: { height: 40, width: 120 },
    }, 4242, ['/sys/fs/cgroup/cpu,cpuacct/berth/x', '/sys/fs/cgroup/cpu,cpuacct/berth/x', '/sys/fs/cgroup/memory/berth/x']));
    expect(r).toEqual([
      'pid=4242', 'cgroup=/sys/fs/cgroup/cpu,cpuacct/berth/x', 'cgroup=/sys/fs/cgroup/memory/berth/x',
      'cwd=/tmp', 'uid=1000', 'gid=1000', 'groups=5,1000', 'umask=18', 'nnp=1', 'seccomp=1', 'oom=300',
      // CAP_CHOWN is 0, CAP_NET_ADMIN 12, CAP_CHECKPOINT_RESTORE 40.
      'cap.bounding=10000001001', 'cap.effective=1000', 'cap.permitted=1000', 'cap.inheritable=0', 'cap.ambient=0',
      'rlimit=7:1000:2000', 'rlimit=4:-1:-1', 'rows=40', 'cols=120',
      'env=PATH=/bin', 'env=X=1=2', 'arg=sh', 'arg=-c', 'arg=echo a=b',
    ]);
  });

  it('leaves to the runtime what the shim would not reproduce exactly', () => {
    const base = { args: ['true'], cwd: '/' };
    expect(nativeExecDescription({ ...base, apparmorProfile: 'docker-default' }, 1, [])).toBeUndefined();
    expect(nativeExecDescription({ ...base, selinuxLabel: 'system_u:system_r:container_t' }, 1, [])).toBeUndefined();
    expect(nativeExecDescription({ ...base, capabilities: { bounding: ['CAP_FUTURE'] } }, 1, [])).toBeUndefined();
    expect(nativeExecDescription({ ...base, rlimits: [{ type: 'RLIMIT_FUTURE', soft: 1, hard: 1 }] }, 1, [])).toBeUndefined();
    expect(nativeExecDescription({ ...base, args: ['echo', 'a\0b'] }, 1, [])).toBeUndefined();
    expect(nativeExecDescription(base, 0, [])).toBeUndefined();
    expect(nativeExecDescription(base, 7, [])).toBeDefined();
  });
});
