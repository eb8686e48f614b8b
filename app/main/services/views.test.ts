import { describe, expect, it, vi } from 'vitest';
import { containerView, imageView, sameView } from './views.js';
import { LineSplitter, LogBatch, sinceTimestamp } from './logs-service.js';
import { statsSample } from './stats-service.js';

describe('containerView', () => {
  it('shows a published port once although dockerd lists it per address family', () => {
    const v = containerView({
      Id: 'abc', Names: ['/web'], Image: 'nginx', State: 'running', Status: 'Up 2 minutes', Created: 5,
      Labels: { 'com.docker.compose.project': 'shop' },
      Ports: [
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { PrivatePort: 53, Type: 'udp' },
      ],
    });
    expect(v).toMatchObject({ id: 'abc', name: 'web', project: 'shop', state: 'running' });
    expect(v.ports).toEqual([
      { containerPort: 53, protocol: 'udp', hostIp: undefined, hostPort: undefined },
      { containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 },
    ]);
  });

  it('tells an engine answer that changes nothing from one that changes a row', () => {
    const summary = { Id: 'abc', Names: ['/web'], Image: 'nginx', State: 'running' as const, Status: 'Up 2 minutes', Created: 5, Ports: [{ PrivatePort: 80, PublicPort: 8080, Type: 'tcp' as const }] };
    const v = containerView(summary);
    expect(sameView(v, containerView(summary))).toBe(true);
    // A key holding undefined is the same as no key: JSON drops both on the way to the window.
    expect(sameView({ ...v, startedAt: undefined }, v)).toBe(true);
    expect(sameView(v, containerView({ ...summary, Status: 'Up 3 minutes' }))).toBe(false);
    expect(sameView(v, containerView({ ...summary, Ports: [{ PrivatePort: 80, PublicPort: 8081, Type: 'tcp' }] }))).toBe(false);
    expect(sameView(v, { ...v, labels: { a: '1' } })).toBe(false);
    expect(sameView(v, undefined)).toBe(false);
    expect(sameView([1], { 0: 1 })).toBe(false);
  });

  it('drops the <none> placeholders of dangling images', () => {
    const v = imageView({ Id: 'sha256:1', RepoTags: ['<none>:<none>'], RepoDigests: ['<none>@<none>'], Size: 10, Created: 1, Containers: 0, ParentId: '', SharedSize: -1, Labels: {} });
    expect(v.tags).toEqual([]);
    expect(v.digests).toEqual([]);
  });
});

describe('LineSplitter', () => {
  it('cuts whole lines across chunks and multi-byte characters, and strips carriage returns', () => {
    const s = new LineSplitter();
    const bytes = Buffer.from('héllo\r\nwörld\npart');
    const texts: string[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const t = s.push(bytes.subarray(i, i + 1));
      if (t !== undefined) texts.push(t);
    }
    expect(texts).toEqual(['héllo', 'wörld']);
    expect(s.end()).toBe('part');
    expect(s.end()).toBeUndefined();
  });

  it('gives the lines a chunk completed as one text, keeping empty lines', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from('a\r\n\nb\nc'))).toBe('a\n\nb');
    expect(s.push(Buffer.from('d\r'))).toBeUndefined();
    expect(s.push(Buffer.from('\n'))).toBe('cd');
    expect(s.push(Buffer.from('\n'))).toBe('');
  });
});

describe('LogBatch', () => {
  it('sends the lines of a frame as one message, in order, one chunk per run of a stream', () => {
    vi.useFakeTimers();
    try {
      const sent: unknown[] = [];
      const b = new LogBatch((chunks) => sent.push(chunks), 16, 1000);
      b.add('stdout', 'a\nb');
      b.add('stdout', 'c');
      b.add('stderr', 'oops');
      b.add('stdout', 'd');
      expect(sent).toEqual([]);
      vi.advanceTimersByTime(16);
      expect(sent).toEqual([[{ stream: 'stdout', text: 'a\nb\nc' }, { stream: 'stderr', text: 'oops' }, { stream: 'stdout', text: 'd' }]]);
      b.flush();
      expect(sent).toHaveLength(1); // nothing waiting, nothing sent
    } finally {
      vi.useRealTimers();
    }
  });

  it('sends early once a batch reaches its size', () => {
    const sent: { stream: string; text: string }[][] = [];
    const b = new LogBatch((chunks) => sent.push(chunks), 10_000, 10);
    b.add('stdout', '12345');
    b.add('stdout', '67890');
    expect(sent).toEqual([[{ stream: 'stdout', text: '12345\n67890' }]]);
    b.add('stdout', 'x');
    b.flush();
    expect(sent[1]).toEqual([{ stream: 'stdout', text: 'x' }]);
  });
});

describe('statsSample', () => {
  it('computes CPU percent like the docker CLI and leaves page cache out of memory', () => {
    const s = statsSample('c', {
      read: '2026-01-01T00:00:01Z',
      cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 4 },
      precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 10_000_000_000 },
      memory_stats: { usage: 100_000_000, limit: 1_000_000_000, stats: { inactive_file: 30_000_000 } },
      networks: { eth0: { rx_bytes: 10, tx_bytes: 20 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
      blkio_stats: { io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 512 }] },
    } as Parameters<typeof statsSample>[1]);
    expect(s.cpuPercent).toBeCloseTo(40);
    expect(s.memoryBytes).toBe(70_000_000);
    expect(s).toMatchObject({ networkRx: 11, networkTx: 22, blockRead: 4096, blockWrite: 512, memoryLimit: 1_000_000_000 });
  });
});

describe('sinceTimestamp', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('reads durations ago, unix times and RFC 3339 times as the docker CLI does', () => {
    expect(sinceTimestamp('10m', now)).toBe(String(now / 1000 - 600));
    expect(sinceTimestamp('1h30m', now)).toBe(String(now / 1000 - 5400));
    expect(sinceTimestamp('1700000000', now)).toBe('1700000000');
    expect(sinceTimestamp('2026-01-01T11:00:00Z', now)).toBe(String(now / 1000 - 3600));
    expect(sinceTimestamp(undefined, now)).toBeUndefined();
    expect(() => sinceTimestamp('yesterday', now)).toThrow(/invalid since "yesterday"/);
  });
});
