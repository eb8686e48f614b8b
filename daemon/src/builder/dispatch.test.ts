import { describe, expect, it } from 'vitest';
import { parsePortSpec, validateSignal } from './dispatch';

describe('EXPOSE and STOPSIGNAL checks', () => {
  it('reads port specs as dockerd does', () => {
    expect(parsePortSpec('80')).toEqual(['80/tcp']);
    expect(parsePortSpec('53/UDP')).toEqual(['53/udp']);
    expect(parsePortSpec('8000-8002/tcp')).toEqual(['8000/tcp', '8001/tcp', '8002/tcp']);
    expect(parsePortSpec('127.0.0.1:8080:80')).toEqual(['80/tcp']);
    expect(() => parsePortSpec('abc')).toThrow('Invalid containerPort: abc');
    expect(() => parsePortSpec('80/xyz')).toThrow('Invalid proto: xyz');
    expect(() => parsePortSpec('70000')).toThrow('Invalid containerPort: 70000');
  });

  it('takes signal names with or without SIG, numbers and real-time signals', () => {
    for (const s of ['SIGTERM', 'term', 'KILL', '9', 'SIGRTMIN+3', 'RTMAX-1']) expect(() => validateSignal(s)).not.toThrow();
    expect(() => validateSignal('FOO')).toThrow('Invalid signal: FOO');
    expect(() => validateSignal('0')).toThrow('Invalid signal: 0');
  });
});
