import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveInRoot } from './scoped-path';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'berth-scoped-'));
  mkdirSync(path.join(root, 'etc'));
  writeFileSync(path.join(root, 'etc/passwd'), 'x');
  symlinkSync('/etc/shadow', path.join(root, 'evil'));
  symlinkSync('../../../../etc', path.join(root, 'up'));
  symlinkSync('etc', path.join(root, 'rel'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('resolveInRoot', () => {
  it('keeps absolute and climbing symlinks inside the root', () => {
    expect(resolveInRoot(root, '/evil')).toBe(path.join(root, 'etc/shadow'));
    expect(resolveInRoot(root, '/up/passwd')).toBe(path.join(root, 'etc/passwd'));
    expect(resolveInRoot(root, '/../../etc/passwd')).toBe(path.join(root, 'etc/passwd'));
    expect(resolveInRoot(root, 'rel/passwd')).toBe(path.join(root, 'etc/passwd'));
  });
  it('can leave the last component unfollowed, and keeps missing parts', () => {
    expect(resolveInRoot(root, '/evil', false)).toBe(path.join(root, 'evil'));
    expect(resolveInRoot(root, '/rel/new/file')).toBe(path.join(root, 'etc/new/file'));
  });
  it('stops symlink loops', () => {
    symlinkSync('loop', path.join(root, 'loop'));
    expect(() => resolveInRoot(root, '/loop/x')).toThrow(/too many levels/);
  });
});
