import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDataDisk, wipeDataDisk } from './data-disk.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('data disk', () => {
  it('is created sparse, grows on request, refuses to shrink, and can be wiped', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-disk-'));
    const disk = path.join(dir, 'data.img');
    expect(ensureDataDisk(disk, 4)).toBe(4 * 1024 ** 3);
    const st = statSync(disk);
    expect(st.size).toBe(4 * 1024 ** 3);
    expect(st.blocks * 512).toBeLessThan(1024 * 1024); // sparse: no host space used yet
    ensureDataDisk(disk, 6);
    expect(statSync(disk).size).toBe(6 * 1024 ** 3);
    expect(() => ensureDataDisk(disk, 2)).toThrow(/cannot shrink/);
    wipeDataDisk(disk);
    expect(existsSync(disk)).toBe(false);
  });
});
