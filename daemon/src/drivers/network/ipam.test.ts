import { describe, expect, it } from 'vitest';
import { allocate, formatCidr, newAllocation, overlaps, parseCidr, pickSubnet, release } from './ipam';

describe('ipam', () => {
  it('picks the first pool subnet that overlaps no route or network', () => {
    const taken = ['172.16.0.0/16', '172.17.0.0/16', '172.18.0.0/16', '10.0.0.0/8'].map(parseCidr);
    expect(formatCidr(pickSubnet([{ base: '172.17.0.0/12', size: 16 }], taken))).toBe('172.19.0.0/16');
    // A route inside a candidate makes it taken too.
    expect(formatCidr(pickSubnet([{ base: '192.168.0.0/16', size: 20 }], [parseCidr('192.168.1.0/24')]))).toBe('192.168.16.0/20');
    expect(() => pickSubnet([{ base: '10.1.0.0/24', size: 24 }], [parseCidr('10.1.0.128/25')])).toThrow(/could not find an available/);
  });

  it('detects overlaps both ways', () => {
    expect(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.3.0.0/16'))).toBe(true);
    expect(overlaps(parseCidr('10.3.0.0/16'), parseCidr('10.0.0.0/8'))).toBe(true);
    expect(overlaps(parseCidr('10.3.0.0/16'), parseCidr('10.4.0.0/16'))).toBe(false);
  });

  it('hands out addresses in order, skips the gateway, does not reuse a freed one at once, honours --ip', () => {
    const a = newAllocation(parseCidr('10.9.0.0/29'));
    expect(a.gateway).toBe('10.9.0.1');
    expect(allocate(a, 'e1')).toBe('10.9.0.2');
    expect(allocate(a, 'e2')).toBe('10.9.0.3');
    release(a, 'e1');
    expect(allocate(a, 'e3')).toBe('10.9.0.4');
    expect(allocate(a, 'e4', '10.9.0.6')).toBe('10.9.0.6');
    expect(() => allocate(a, 'e5', '10.9.0.6')).toThrow('Address already in use: 10.9.0.6');
    expect(() => allocate(a, 'e5', '10.9.1.6')).toThrow(/does not belong/);
    expect(() => allocate(a, 'e5', '10.9.0.7')).toThrow(/broadcast/);
    expect(allocate(a, 'e6')).toBe('10.9.0.5');
    expect(allocate(a, 'e7')).toBe('10.9.0.2');
    expect(() => allocate(a, 'e8')).toThrow(/no available IPv4 addresses/);
  });

  it('allocates from --ip-range only', () => {
    const a = newAllocation(parseCidr('10.8.0.0/16'), '10.8.0.254', '10.8.5.0/30');
    expect([allocate(a, 'a'), allocate(a, 'b'), allocate(a, 'c'), allocate(a, 'd')]).toEqual(['10.8.5.0', '10.8.5.1', '10.8.5.2', '10.8.5.3']);
    expect(() => newAllocation(parseCidr('10.8.0.0/16'), '10.9.0.1')).toThrow(/not in subnet/);
  });
});
