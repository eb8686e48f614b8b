import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveInRoot, resolveScoped } from './scoped-path';

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

describe('resolveScoped', () => {
  // The same walk over something that is not a filesystem (the builder's context index).
  const links = new Map([['evil', '/etc/shadow'], ['up', '../../etc'], ['a/rel', '../etc'], ['loop', 'loop']]);
  const readlink = (parts: string[]) => links.get(parts.join('/'));
  it('follows links given by its lookup, inside the root', () => {
    expect(resolveScoped('/evil', readlink)).toEqual(['etc', 'shadow']);
    expect(resolveScoped('up/passwd', readlink)).toEqual(['etc', 'passwd']);
    expect(resolveScoped('a/rel/x', readlink)).toEqual(['etc', 'x']);
    expect(resolveScoped('a/../../..', readlink)).toEqual([]);
    expect(resolveScoped('evil', readlink, false)).toEqual(['evil']);
    expect(() => resolveScoped('loop', readlink)).toThrow(/too many levels/);
  });
});
