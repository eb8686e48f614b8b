import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { openPorts, portMap, requestedPorts } from './ports';

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
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const taken = (holder.address() as net.AddressInfo).port;
    let opened = 0;
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const free = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
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
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const taken = (holder.address() as net.AddressInfo).port;
    const open = await openPorts([{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPorts: [taken, taken + 1] }], '127.0.0.2', 'x');
    expect(open.published).toEqual([{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: taken + 1 }]);
    expect(portMap({ '80/tcp': {}, '443/tcp': {} }, [], open.published)).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(taken + 1) }], '443/tcp': null });
    for (const p of open.proxies) await p.close();
    holder.close();
  });
});
