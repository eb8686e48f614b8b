import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from './cli.js';
import { defaultStateDir } from './config.js';

describe('berth vm arguments', () => {
  it('shares the home folder unless told otherwise', () => {
    expect(parseArgs(['start'], {}).shares).toEqual([os.homedir()]);
    expect(parseArgs(['start', '--share', 'none'], {}).shares).toEqual([]);
    expect(parseArgs(['start', '--share', '/a', '--share', '/b c'], {}).shares).toEqual(['/a', '/b c']);
    expect(parseArgs(['start'], { BERTH_VM_SHARES: ['/x', '/y'].join(path.delimiter) }).shares).toEqual(['/x', '/y']);
  });

  it('reads resources and refuses nonsense', () => {
    const o = parseArgs(['start', '--cpus', '4', '--memory', '4096', '--disk', '100'], {});
    expect([o.command, o.cpus, o.memoryMiB, o.diskGiB]).toEqual(['start', 4, 4096, 100]);
    expect(() => parseArgs(['start', '--cpus', 'many'], {})).toThrow(/--cpus needs a positive number/);
    expect(() => parseArgs(['start', '--frobnicate'], {})).toThrow(/unknown flag/);
    expect(() => parseArgs(['start', 'stop'], {})).toThrow(/unexpected argument/);
  });

  it('keeps the VM where the app keeps it, per platform', () => {
    expect(defaultStateDir({ BERTH_VM_DIR: '/srv/vm' }, 'linux')).toBe('/srv/vm');
    expect(defaultStateDir({ XDG_STATE_HOME: '/home/ann/.state' }, 'linux')).toBe('/home/ann/.state/berth/vm');
    expect(defaultStateDir({}, 'darwin')).toBe(path.join(os.homedir(), 'Library', 'Application Support', 'Berth', 'vm'));
    expect(defaultStateDir({ LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local' }, 'win32')).toBe(path.join('C:\\Users\\ann\\AppData\\Local', 'Berth', 'vm'));
    expect(parseArgs(['status'], { BERTH_VM_DIR: '/srv/vm' }).stateDir).toBe('/srv/vm');
  });
});
