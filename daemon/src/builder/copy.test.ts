import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performCopy, resolveSources, type CopyRequest } from './copy';

const dirs: string[] = [];
function tree(files: Record<string, string>): string {
  const d = mkdtempSync(path.join(tmpdir(), 'berth-copy-test-'));
  dirs.push(d);
  for (const [f, c] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    writeFileSync(path.join(d, f), c);
  }
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function copy(ctx: string, rootfs: string, req: Partial<CopyRequest> & { sources: string[]; dest: string }): Promise<void> {
  const full: CopyRequest = { kind: 'COPY', workdir: '/', ...req };
  const from = { root: ctx, isContext: true };
  await performCopy(full, from, await resolveSources(full, from), rootfs);
}

describe('COPY and ADD', () => {
  it('copies a file to a path, into a directory with a trailing slash, and relative to WORKDIR', async () => {
    const ctx = tree({ 'a.txt': 'a' });
    const root = tree({ 'etc/passwd': 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n', 'etc/group': 'root:x:0:\napp:x:1000:\n' });
    await copy(ctx, root, { sources: ['a.txt'], dest: '/b.txt' });
    await copy(ctx, root, { sources: ['a.txt'], dest: '/new/dir/' });
    await copy(ctx, root, { sources: ['a.txt'], dest: 'rel.txt', workdir: '/work' });
    expect(readFileSync(path.join(root, 'b.txt'), 'utf8')).toBe('a');
    expect(readFileSync(path.join(root, 'new/dir/a.txt'), 'utf8')).toBe('a');
    expect(readFileSync(path.join(root, 'work/rel.txt'), 'utf8')).toBe('a');
  });

  it('copies a directory\'s contents, not the directory, and resets owners unless --chown', async () => {
    const ctx = tree({ 'src/x/y.txt': 'y', 'src/z.txt': 'z' });
    const root = tree({ 'etc/passwd': 'app:x:1000:1001::/home/app:/bin/sh\n', 'etc/group': 'app:x:1001:\n' });
    await copy(ctx, root, { sources: ['src'], dest: '/dst' });
    expect(readFileSync(path.join(root, 'dst/x/y.txt'), 'utf8')).toBe('y');
    expect(lstatSync(path.join(root, 'dst/z.txt')).uid).toBe(0);
    await copy(ctx, root, { sources: ['src'], dest: '/owned', chown: 'app', chmod: '700' });
    const st = lstatSync(path.join(root, 'owned/x/y.txt'));
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([1000, 1001, 0o700]);
  });

  it('expands globs, and wants a directory destination for several sources', async () => {
    const ctx = tree({ 'a.txt': 'a', 'b.txt': 'b', 'c.md': 'c' });
    const root = tree({});
    await copy(ctx, root, { sources: ['*.txt'], dest: '/t/' });
    expect(existsSync(path.join(root, 't/a.txt')) && existsSync(path.join(root, 't/b.txt'))).toBe(true);
    expect(existsSync(path.join(root, 't/c.md'))).toBe(false);
    await expect(copy(ctx, root, { sources: ['*.txt'], dest: '/t2' })).rejects.toThrow('When using COPY with more than one source file, the destination must be a directory and end with a /');
    await expect(copy(ctx, root, { sources: ['*.nothing'], dest: '/t3/' })).rejects.toThrow('COPY failed: no source files were specified');
    await expect(copy(ctx, root, { sources: ['missing'], dest: '/x' })).rejects.toThrow('COPY failed: file not found in build context or excluded by .dockerignore: stat missing: file does not exist');
  });

  it('unpacks local archives with ADD, and copies them as they are with COPY', async () => {
    const ctx = tree({ 'pkg/inner.txt': 'inner' });
    execFileSync('tar', ['-C', path.join(ctx, 'pkg'), '-czf', path.join(ctx, 'pkg.tar.gz'), 'inner.txt']);
    const root = tree({});
    await copy(ctx, root, { kind: 'ADD', sources: ['pkg.tar.gz'], dest: '/opt/' });
    expect(readFileSync(path.join(root, 'opt/inner.txt'), 'utf8')).toBe('inner');
    await copy(ctx, root, { sources: ['pkg.tar.gz'], dest: '/raw/' });
    expect(existsSync(path.join(root, 'raw/pkg.tar.gz'))).toBe(true);
  });

  it('resolves the destination inside the root filesystem, through its own symlinks', async () => {
    const ctx = tree({ 'a.txt': 'a' });
    const root = tree({ 'real/.keep': '' });
    symlinkSync('/real', path.join(root, 'link'));
    symlinkSync('../../../../../../etc', path.join(root, 'escape'));
    await copy(ctx, root, { sources: ['a.txt'], dest: '/link/' });
    expect(readFileSync(path.join(root, 'real/a.txt'), 'utf8')).toBe('a');
    await copy(ctx, root, { sources: ['a.txt'], dest: '/escape/berth-test-a.txt' });
    expect(existsSync('/etc/berth-test-a.txt')).toBe(false);
    expect(readFileSync(path.join(root, 'etc/berth-test-a.txt'), 'utf8')).toBe('a');
  });
});
