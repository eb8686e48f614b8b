import { describe, expect, it } from 'vitest';
import { mergeImageConfig, validateHostConfig, validateResources, parseCpuset } from './create-config';

const limits = { ncpu: 2, swapAccounting: true, cgroupVersion: '1' as const };

describe('create validation', () => {
  it('refuses what dockerd refuses, with its words', () => {
    expect(() => validateResources({ Memory: 1024 * 1024 }, limits)).toThrow('Minimum memory limit allowed is 6MB');
    expect(() => validateResources({ Memory: 64 << 20, MemorySwap: 32 << 20 }, limits)).toThrow('Minimum memoryswap limit should be larger than memory limit, see usage');
    expect(() => validateResources({ Memory: 64 << 20, MemoryReservation: 128 << 20 }, limits)).toThrow('Minimum memory limit can not be less than memory reservation limit, see usage');
    expect(() => validateResources({ NanoCpus: 1e9, CpuPeriod: 100000 }, limits)).toThrow('Conflicting options: Nano CPUs and CPU Period cannot both be set');
    expect(() => validateResources({ NanoCpus: 3e9 }, limits)).toThrow('Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
    expect(() => validateResources({ CpusetCpus: '0-3' }, limits)).toThrow('Requested CPUs are not available - requested 0-3, available: 0-1');
    expect(() => validateHostConfig({ RestartPolicy: { Name: 'always' }, AutoRemove: true }, limits)).toThrow("can't create 'AutoRemove' container with restart policy");
    expect(() => validateHostConfig({ NetworkMode: 'nonet' }, limits)).toThrow('network nonet not found');
  });

  it('defaults swap to twice the memory where swap is accounted, unlimited where not', () => {
    const hc = { Memory: 64 << 20 };
    validateResources(hc, limits);
    expect(hc).toMatchObject({ MemorySwap: 128 << 20 });
    const noSwap = { Memory: 64 << 20, MemorySwap: 100 << 20 };
    expect(validateResources(noSwap, { ...limits, swapAccounting: false })[0]).toMatch(/does not support swap limit/);
    expect(noSwap.MemorySwap).toBe(-1);
  });

  it('parses cpusets', () => {
    expect(parseCpuset('0-2,4')).toEqual([0, 1, 2, 4]);
    expect(() => parseCpuset('x')).toThrow('Invalid value x for cpuset cpus');
  });
});

describe('image config merge', () => {
  const image = { Env: ['PATH=/img', 'A=1'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '/w', User: 'web', Labels: { a: '1' } };
  it('takes the image command unless the request gives one', () => {
    const m = mergeImageConfig({ Image: 'busybox' }, image, 'f'.repeat(64));
    expect(m.path).toBe('sh');
    expect(m.args).toEqual([]);
    expect(m.config).toMatchObject({ Hostname: 'ffffffffffff', User: 'web', WorkingDir: '/w', Env: ['PATH=/img', 'A=1'] });
    const own = mergeImageConfig({ Cmd: ['echo', 'hi'], Env: ['A=2'], Labels: { b: '2' } }, image, 'f'.repeat(64));
    expect([own.path, ...own.args]).toEqual(['echo', 'hi']);
    expect(own.config.Env).toEqual(['PATH=/img', 'A=2']);
    expect(own.config.Labels).toEqual({ a: '1', b: '2' });
  });
  it('drops the image Cmd when the request sets an Entrypoint', () => {
    const m = mergeImageConfig({ Entrypoint: ['/bin/top'] }, { ...image, Entrypoint: ['/ep'], Cmd: ['x'] }, 'a'.repeat(64));
    expect([m.path, ...m.args]).toEqual(['/bin/top']);
  });
  it('refuses a container without a command', () => {
    expect(() => mergeImageConfig({}, {}, 'a'.repeat(64))).toThrow('No command specified');
  });
});
