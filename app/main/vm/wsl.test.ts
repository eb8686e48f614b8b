import { describe, expect, it } from 'vitest';
import { parseWslList, windowsPathToWsl, wslImportArgs, wslStartArgs, wslStopArgs, wslTerminateArgs, wslUnregisterArgs } from './wsl.js';

describe('WSL 2 command lines', () => {
  it('imports the root tarball as a WSL 2 distribution', () => {
    expect(wslImportArgs('berth', 'C:\\Users\\ann\\AppData\\Local\\Berth\\vm\\wsl', 'C:\\Program Files\\Berth\\vm\\rootfs.tar.gz'))
      .toEqual(['--import', 'berth', 'C:\\Users\\ann\\AppData\\Local\\Berth\\vm\\wsl', 'C:\\Program Files\\Berth\\vm\\rootfs.tar.gz', '--version', '2']);
  });

  it('starts berth-wsl-init as root with the API port and the shares as WSL paths', () => {
    expect(wslStartArgs('berth', 41234, ['C:\\Users\\ann', 'd:/work/'])).toEqual([
      '--distribution', 'berth', '--user', 'root', '--exec', '/usr/sbin/berth-wsl-init', 'start', '--api-port=41234',
      '--share=/mnt/c/Users/ann', '--share=/mnt/d/work']);
    expect(wslStopArgs('berth')).toEqual(['--distribution', 'berth', '--user', 'root', '--exec', '/usr/sbin/berth-wsl-init', 'stop']);
    expect(wslTerminateArgs('berth')).toEqual(['--terminate', 'berth']);
    expect(wslUnregisterArgs('berth')).toEqual(['--unregister', 'berth']);
  });

  it('translates Windows paths and refuses relative ones', () => {
    expect(windowsPathToWsl('C:\\')).toBe('/mnt/c');
    expect(windowsPathToWsl('E:\\My Projects\\app')).toBe('/mnt/e/My Projects/app');
    expect(() => windowsPathToWsl('projects\\app')).toThrow(/absolute Windows path/);
  });

  it('reads `wsl --list --verbose` in UTF-16LE', () => {
    const text = '\uFEFF  NAME            STATE           VERSION\r\n* Ubuntu          Running         2\r\n  berth           Stopped         2\r\n  legacy          Stopped         1\r\n';
    expect(parseWslList(Buffer.from(text, 'utf16le'))).toEqual([
      { isDefault: true, name: 'Ubuntu', state: 'Running', version: 2 },
      { isDefault: false, name: 'berth', state: 'Stopped', version: 2 },
      { isDefault: false, name: 'legacy', state: 'Stopped', version: 1 },
    ]);
    expect(parseWslList('')).toEqual([]);
  });
});
