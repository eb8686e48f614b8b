import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkDockerfile, inspectContextFolder, resolveContextFolder } from './context-folder.js';

let dir: string;
let outside: string;
const write = (rel: string, text = 'FROM busybox\n') => {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), text);
};
const status = async (p: Promise<unknown>) => p.then(() => undefined, (e: { status?: number; message: string }) => [e.status, e.message]);

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'berth-folder-'));
  outside = mkdtempSync(path.join(tmpdir(), 'berth-outside-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('the build context folder', () => {
  it('refuses a relative, missing or non-folder path with the CLI\'s words', async () => {
    write('file.txt');
    expect((await status(resolveContextFolder('project')))?.[0]).toBe(400);
    expect(await status(resolveContextFolder(path.join(dir, 'nope')))).toEqual([404, `unable to prepare context: path "${path.join(dir, 'nope')}" not found`]);
    expect((await status(resolveContextFolder(path.join(dir, 'file.txt'))))?.[1]).toMatch(/^unable to prepare context: context must be a directory/);
  });

  it('resolves symlinks to the folder itself', async () => {
    const link = path.join(outside, 'ctx');
    symlinkSync(dir, link);
    expect(await resolveContextFolder(link)).toBe(await resolveContextFolder(dir));
  });

  it('finds the Dockerfiles, the root one first, and skips dependency folders', async () => {
    write('a/Dockerfile.dev');
    write('Dockerfile');
    write('web.dockerfile');
    write('node_modules/x/Dockerfile');
    write('.dockerignore', 'x');
    write('README.md', '#');
    const view = await inspectContextFolder(dir);
    expect(view.dockerfiles).toEqual(['Dockerfile', 'web.dockerfile', 'a/Dockerfile.dev']);
    expect(view.dockerignore).toBe(true);
  });

  it('accepts a Dockerfile inside the folder only', async () => {
    write('sub/Dockerfile');
    writeFileSync(path.join(outside, 'Dockerfile'), 'FROM busybox\n');
    symlinkSync(outside, path.join(dir, 'elsewhere'));
    const root = await resolveContextFolder(dir);
    await checkDockerfile(root, 'sub/Dockerfile');
    expect((await status(checkDockerfile(root, 'Dockerfile')))).toEqual([404, 'Cannot locate specified Dockerfile: Dockerfile']);
    expect((await status(checkDockerfile(root, '../Dockerfile')))?.[0]).toBe(400);
    expect((await status(checkDockerfile(root, '/etc/passwd')))?.[0]).toBe(400);
    expect((await status(checkDockerfile(root, 'elsewhere/Dockerfile')))?.[1]).toMatch(/through a symlink/);
    expect((await status(checkDockerfile(root, 'sub')))?.[0]).toBe(404);
  });
});
