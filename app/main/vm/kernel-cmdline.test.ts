import { describe, expect, it } from 'vitest';
import { decodeSharePath, encodeSharePath, guestShares, kernelCmdline, MAX_CMDLINE } from './kernel-cmdline.js';

const base = { console: 'ttyS0' as const, net: 'static' as const, shares: [], api: 'tcp:2375:10.0.2.2', control: 'serial:berth.control' };

describe('kernel command line', () => {
  it('carries the berth.* keys berth-init reads', () => {
    const line = kernelCmdline({ ...base, tscKhz: 2596144 });
    expect(line.split(' ')).toEqual(expect.arrayContaining(['console=ttyS0', 'berth.root=berth-root', 'berth.data=berth-data', 'berth.net=static',
      'berth.api=tcp:2375:10.0.2.2', 'berth.control=serial:berth.control', 'tsc_early_khz=2596144', 'tsc=reliable', 'lpj=10384576',
      'initcall_blacklist=init_kprobe_trace,crypto_kdf108_init']));
    expect(kernelCmdline(base)).not.toMatch(/tsc|lpj/);
    expect(line).not.toContain(' -- ');
  });

  it('encodes share paths so spaces and non-ASCII survive the space-separated command line', () => {
    const shares = guestShares(['/Users/ann/My Projects', '/home/zoë/a,b']);
    const line = kernelCmdline({ ...base, shares });
    expect(line).toContain('berth.share=share0:/Users/ann/My%20Projects');
    expect(line).toContain('berth.share=share1:/home/zo%C3%AB/a%2Cb');
    for (const s of shares) expect(decodeSharePath(encodeSharePath(s.path))).toBe(s.path);
  });

  it('refuses relative share paths and command lines over the kernel limit', () => {
    expect(() => encodeSharePath('relative/dir')).toThrow(/absolute/);
    const many = guestShares(Array.from({ length: 80 }, (_, i) => `/a/long/path/to/a/project/folder/number/${i}`));
    expect(() => kernelCmdline({ ...base, shares: many })).toThrow(new RegExp(`${MAX_CMDLINE}-byte limit`));
  });

  it('names an engine script to run in berthd\'s place, encoded like share paths', () => {
    expect(kernelCmdline(base)).not.toContain('berth.engine=');
    const line = kernelCmdline({ ...base, engine: '/tmp/bench dir/ping.cjs' });
    expect(line).toContain('berth.engine=/tmp/bench%20dir/ping.cjs');
    expect(() => kernelCmdline({ ...base, engine: 'ping.cjs' })).toThrow(/absolute/);
  });

  it('appends a diagnostic command after "--"', () => {
    expect(kernelCmdline({ ...base, exec: ['node', '-e', '0'] }).endsWith(' -- node -e 0')).toBe(true);
    expect(() => kernelCmdline({ ...base, exec: ['sh', '-c', 'echo hi'] })).toThrow(/cannot be passed/);
  });
});
