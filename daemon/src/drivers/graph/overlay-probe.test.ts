// The overlay probe remembers a success for this kernel and filesystem, and probes again when
// either changed (a stamp that does not match).
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OverlayDriver } from './overlay';

const dir = mkdtempSync(path.join(tmpdir(), 'berth-overlay-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('OverlayDriver.supported', () => {
  it('records a successful probe and probes again when the kernel or filesystem differs', async () => {
    const home = path.join(dir, 'overlay2');
    new OverlayDriver(home);
    expect(await OverlayDriver.supported(home)).toEqual({ ok: true });
    const marker = path.join(home, 'probed');
    const stamp = readFileSync(marker, 'utf8');
    expect(stamp.startsWith(`${os.release()} `)).toBe(true);
    expect(await OverlayDriver.supported(home)).toEqual({ ok: true });

    writeFileSync(marker, 'another-kernel 1\n');
    expect(await OverlayDriver.supported(home)).toEqual({ ok: true });
    expect(readFileSync(marker, 'utf8')).toBe(stamp);
    expect(readdirSync(home).filter((n) => n.startsWith('probe-'))).toEqual([]);
  });
});
