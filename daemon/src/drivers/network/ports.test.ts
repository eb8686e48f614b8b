import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { openPorts, portMap, requestedPorts } from './ports';

const listen = (server: net.Server, port: number) =>
  new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });

/**
 * A port held by this test with a free one right after it. Both sit below the kernel's ephemeral
 * range (32768 and up here), so no connection made by a test running alongside can take the free
 * one between the probe and its use, as could happen with a port the kernel picked.
 */
async function holdPortBeforeFreeOne(): Promise<{ holder: net.Server; taken: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const taken = 20000 + Math.floor(Math.random() * 12000);
    const holder = net.createServer();
    if (!(await listen(holder, taken))) continue;
    const probe = net.createServer();
    if (await listen(probe, taken + 1)) {
      await new Promise<void>((r) => probe.close(() => r()));
      return { holder, taken };
    }
    holder.close();
  }
  throw new Error('no free pair of ports below the ephemeral range');
}

describe('published ports', () => {
  it('reads -p and -P as the CLI sends them', () => {
    const r = requestedPorts({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '' }], '9000/tcp': [{ HostIp: '', HostPort: '9000-9005' }] }, true, { '80/tcp': {}, '443/tcp': {} });
    expect(r).toEqual([
      { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPorts: [8080, 8080] },
      { proto: 'udp', containerPort: 53, hostIp: '', hostPorts: null },
      { proto: 'tcp', containerPort: 9000, hostIp: '', hostPorts: [9000, 9005] },
      { proto: 'tcp', containerPort: 443, hostIp: '', hostPorts: null },
    ]);
    expect(() => requestedPorts({ '70000/tcp': [] }, false, {})).toThrow('invalid port specification: "70000/tcp"');
    expect(() => requestedPorts({ '80/tcp': [{ HostPort: '9-3' }] }, false, {})).toThrow('invalid hostPort: 9-3');
  });

  it('opens all or none: a taken port closes the ones already opened', async () => {
    const { holder, taken } = await holdPortBeforeFreeOne();
    const free = taken + 1;
    let opened = 0;
    await expect(openPorts([
      { proto: 'tcp', containerPort: 1, hostIp: '127.0.0.1', hostPorts: [free, free] },
      { proto: 'tcp', containerPort: 2, hostIp: '127.0.0.1', hostPorts: [taken, taken] },
    ], '127.0.0.2', 'web (abc)')).rejects.toThrow(`driver failed programming external connectivity on endpoint web (abc): Bind for 127.0.0.1:${taken} failed: port is already allocated`);
    // The first port was given back.
    const again = net.createServer();
    await new Promise<void>((r, j) => again.once('error', j).listen(free, '127.0.0.1', () => r()));
    opened++;
    again.close();
    holder.close();
    expect(opened).toBe(1);
  });

  it('picks the next free port of a range and lists bindings per exposed port', async () => {
    const { holder, taken } = await holdPortBeforeFreeOne();
    const open = await openPorts([{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPorts: [taken, taken + 1] }], '127.0.0.2', 'x');
    expect(open.published).toEqual([{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: taken + 1 }]);
    expect(portMap({ '80/tcp': {}, '443/tcp': {} }, [], open.published)).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(taken + 1) }], '443/tcp': null });
    for (const p of open.proxies) await p.close();
    holder.close();
  });
});
