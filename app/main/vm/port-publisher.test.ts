import { describe, expect, it } from 'vitest';
import { desiredForwards, diffForwards } from './port-publisher.js';

describe('published ports', () => {
  it('forwards running containers\' public ports, all-address ones from loopback', () => {
    const f = desiredForwards([
      { State: 'running', Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { PrivatePort: 9000, Type: 'tcp' }, { IP: '192.168.1.5', PrivatePort: 53, PublicPort: 5353, Type: 'udp' }] },
      { State: 'exited', Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 9090, Type: 'tcp' }] },
    ]);
    expect(f).toEqual([
      { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, guestPort: 8080 },
      { proto: 'udp', hostIp: '192.168.1.5', hostPort: 5353, guestPort: 5353 },
    ]);
  });

  it('adds what is missing and removes what is no longer published', () => {
    const a = { proto: 'tcp' as const, hostIp: '127.0.0.1', hostPort: 8080, guestPort: 8080 };
    const b = { proto: 'tcp' as const, hostIp: '127.0.0.1', hostPort: 8081, guestPort: 8081 };
    const c = { proto: 'udp' as const, hostIp: '127.0.0.1', hostPort: 8080, guestPort: 8080 };
    expect(diffForwards([a, b], [b, c])).toEqual({ add: [c], remove: [a] });
    expect(diffForwards([a], [a])).toEqual({ add: [], remove: [] });
    const moved = { ...a, guestPort: 18080 };
    expect(diffForwards([a], [moved])).toEqual({ add: [moved], remove: [a] });
  });
});
