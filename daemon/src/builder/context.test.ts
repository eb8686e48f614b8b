import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { pack as tarPack, type Headers } from 'tar-stream';
import { BuildContext } from './context';

type Entry = Headers & { body?: string };
async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => p.on('end', r));
  for (const { body, ...h } of entries) p.entry({ mode: 0o644, ...h }, body);
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

const dirs: string[] = [];
function scratch(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'berth-ctx-test-'));
  dirs.push(d);
  return path.join(d, 'ctx');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, rel)).sort()) {
    const child = rel ? `${rel}/${name}` : name;
    out.push(child);
    if (lstatSync(path.join(root, child)).isDirectory()) out.push(...walk(root, child));
  }
  return out;
}

describe('BuildContext', () => {
  it('unpacks a plain or gzip tar and reads the Dockerfile', async () => {
    const tar = await tarOf([{ name: 'Dockerfile', body: 'FROM scratch\n' }, { name: 'src/a.txt', body: 'a' }, { name: 'src/run.sh', body: '#!/bin/sh\n', mode: 0o755 }]);
    for (const body of [tar, await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const gz = createGzip();
      gz.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)));
      gz.end(tar);
    })]) {
      const ctx = await BuildContext.fromTar(Readable.from([body]), scratch());
      expect(await ctx.readDockerfile('Dockerfile')).toBe('FROM scratch\n');
      await ctx.materialize();
      expect(walk(ctx.root)).toEqual(['Dockerfile', 'src', 'src/a.txt', 'src/run.sh']);
      expect(lstatSync(path.join(ctx.root, 'src/run.sh')).mode & 0o777).toBe(0o755);
      await ctx.remove();
      expect(existsSync(ctx.root)).toBe(false);
    }
  });

  it('applies .dockerignore, exceptions included, keeping what the Dockerfile names', async () => {
    const tar = await tarOf([
      { name: 'Dockerfile', body: 'FROM scratch\n' },
      { name: '.dockerignore', body: 'logs\n*.tmp\n!keep.tmp\nvendor/**\n!vendor/mod/keep.go\n' },
      { name: 'logs/a.log', body: 'x' }, { name: 'x.tmp', body: 'x' }, { name: 'keep.tmp', body: 'k' },
      { name: 'vendor/mod/drop.go', body: 'd' }, { name: 'vendor/mod/keep.go', body: 'k' }, { name: 'main.go', body: 'm' },
    ]);
    const ctx = await BuildContext.fromTar(Readable.from([tar]), scratch());
    await ctx.readDockerfile('Dockerfile');
    expect(await ctx.list('')).toEqual(['Dockerfile', '.dockerignore', 'keep.tmp', 'vendor', 'main.go']);
    await ctx.materialize();
    expect(walk(ctx.root)).toEqual(['.dockerignore', 'Dockerfile', 'keep.tmp', 'main.go', 'vendor', 'vendor/mod', 'vendor/mod/keep.go']);
  });

  it('says when the Dockerfile is missing or empty, as dockerd', async () => {
    const ctx = await BuildContext.fromTar(Readable.from([await tarOf([{ name: 'Empty', body: '' }])]), scratch(), undefined, ['Dockerfile', 'Empty']);
    await expect(ctx.readDockerfile('Dockerfile')).rejects.toThrow('Cannot locate specified Dockerfile: Dockerfile');
    await expect(ctx.readDockerfile('Empty')).rejects.toThrow('the Dockerfile (Empty) cannot be empty');
  });

  it('keeps entries inside the context: `..` cannot climb out, a planted symlink cannot be written through', async () => {
    const outside = scratch();
    const climbing = await BuildContext.fromTar(Readable.from([await tarOf([{ name: '../../escape.txt', body: 'x' }])]), scratch()).catch((e: Error) => e);
    expect(climbing).toBeInstanceOf(Error);
    expect((climbing as Error).message).toMatch(/outside the context/);
    const planted = await tarOf([
      { name: 'link', type: 'symlink', linkname: path.dirname(outside) },
      { name: 'link/owned.txt', body: 'x' },
    ]);
    await expect(BuildContext.fromTar(Readable.from([planted]), scratch())).rejects.toThrow(/goes through a symlink/);
    expect(existsSync(path.join(path.dirname(outside), 'owned.txt'))).toBe(false);
  });

  it('hashes content for the cache: equal content equal hash, a changed byte or mode a new one', async () => {
    const make = async (content: string, mode = 0o644) => {
      const ctx = await BuildContext.fromTar(Readable.from([await tarOf([{ name: 'd/f.txt', body: content, mode }, { name: 'd/g.txt', body: 'g' }])]), scratch());
      return { file: await ctx.hash('d/f.txt'), dir: await ctx.hash('d') };
    };
    const a = await make('one');
    const b = await make('one');
    const c = await make('two');
    const d = await make('one', 0o755);
    expect(b).toEqual(a);
    expect(c.file).not.toBe(a.file);
    expect(c.dir).not.toBe(a.dir);
    expect(d.file).not.toBe(a.file);
  });

  it('refuses a body that is not a tar archive', async () => {
    await expect(BuildContext.fromTar(Readable.from([Buffer.from('this is not a tar archive, not at all'.repeat(20))]), scratch())).rejects.toThrow(/not a valid tar archive|Invalid tar header/);
    // Shorter than the bytes that tell a compressed body from a plain one.
    await expect(BuildContext.fromTar(Readable.from([Buffer.from('abc')]), scratch())).rejects.toThrow(/not a valid tar archive/);
  });

  it('answers lookups from its index, symlinks followed inside it, and unpacks only when asked', async () => {
    const ctx = await BuildContext.fromTar(Readable.from([await tarOf([
      { name: 'a/b/c.txt', body: 'deep' }, { name: 'ln', type: 'symlink', linkname: 'a/b' }, { name: 'abs', type: 'symlink', linkname: '/a/b/c.txt' },
    ])]), scratch());
    expect(await ctx.stat('ln/c.txt')).toEqual({ rel: 'a/b/c.txt', isDir: false });
    expect(await ctx.stat('abs')).toEqual({ rel: 'a/b/c.txt', isDir: false });
    expect(await ctx.stat('a')).toEqual({ rel: 'a', isDir: true });
    expect(await ctx.stat('nope')).toBeUndefined();
    expect(existsSync(ctx.root)).toBe(false);
    await ctx.materialize();
    expect(readFileSync(path.join(ctx.root, 'a/b/c.txt'), 'utf8')).toBe('deep');
  });
});
