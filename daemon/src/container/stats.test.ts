// Stats from cgroup files laid out as v1 and v2 hierarchies in a temporary directory: the same
// files the kernel shows, read into dockerd's StatsJSON shape.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sampleStats, statsJson } from './stats';

let dir: string;
const put = (rel: string, content: string) => {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), content);
};
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'berth-stats-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('container stats', () => {
  it('reads cgroup v1 controllers', async () => {
    put('cpuacct/cpuacct.usage', '5000000000\n');
    put('cpuacct/cpuacct.usage_percpu', '3000000000 2000000000 \n');
    put('cpuacct/cpuacct.stat', 'user 300\nsystem 100\n');
    put('cpu/cpu.stat', 'nr_periods 10\nnr_throttled 2\nthrottled_time 777\n');
    put('memory/memory.usage_in_bytes', '10485760\n');
    put('memory/memory.max_usage_in_bytes', '20971520\n');
    put('memory/memory.limit_in_bytes', String(64 << 20));
    put('memory/memory.stat', 'cache 4096\ntotal_inactive_file 1048576\n');
    put('memory/memory.failcnt', '0');
    put('pids/pids.current', '3\n');
    put('blkio/blkio.throttle.io_service_bytes_recursive', '8:0 Read 4096\n8:0 Write 8192\nTotal 12288\n');
    put('pids/pids.max', '50\n');
    const s = await sampleStats({ layout: 'v1', v1: { cpuacct: path.join(dir, 'cpuacct'), cpu: path.join(dir, 'cpu'), memory: path.join(dir, 'memory'), pids: path.join(dir, 'pids'), blkio: path.join(dir, 'blkio') } });
    expect(s.cpu_stats.cpu_usage).toEqual({ total_usage: 5e9, percpu_usage: [3e9, 2e9], usage_in_kernelmode: 1e9, usage_in_usermode: 3e9 });
    expect(s.cpu_stats.throttling_data).toEqual({ periods: 10, throttled_periods: 2, throttled_time: 777 });
    expect(s.cpu_stats.system_cpu_usage).toBeGreaterThan(0);
    expect(s.memory_stats).toMatchObject({ usage: 10485760, max_usage: 20971520, limit: 64 << 20, stats: { total_inactive_file: 1048576 } });
    expect(s.pids_stats).toEqual({ current: 3, limit: 50 });
    expect(s.blkio_stats.io_service_bytes_recursive).toEqual([{ major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 8192 }]);
  });

  it('reads the cgroup v2 unified files', async () => {
    put('c/cpu.stat', 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 9\n');
    put('c/memory.current', '4096\n');
    put('c/memory.max', 'max\n');
    put('c/memory.stat', 'inactive_file 1024\n');
    put('c/pids.current', '2\n');
    put('c/io.stat', '8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n');
    put('c/pids.max', 'max\n');
    const s = await sampleStats({ layout: 'v2', v1: {}, unified: path.join(dir, 'c') });
    expect(s.cpu_stats.cpu_usage).toEqual({ total_usage: 2_500_000, usage_in_kernelmode: 500_000, usage_in_usermode: 2_000_000 });
    expect(s.cpu_stats.throttling_data).toEqual({ periods: 4, throttled_periods: 1, throttled_time: 9000 });
    expect(s.memory_stats).toMatchObject({ usage: 4096, stats: { inactive_file: 1024 } });
    expect(s.pids_stats).toEqual({ current: 2 });
    expect(s.blkio_stats.io_service_bytes_recursive).toEqual([{ major: 8, minor: 0, op: 'read', value: 100 }, { major: 8, minor: 0, op: 'write', value: 200 }]);
    const json = statsJson('id', '/name', s, undefined);
    expect(json).toMatchObject({ id: 'id', name: '/name', preread: '0001-01-01T00:00:00Z', precpu_stats: { cpu_usage: { total_usage: 0 } } });
  });
});
