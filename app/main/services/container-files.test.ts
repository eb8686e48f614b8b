import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { listArchive } from './container-files.js';

/** A real tar stream, named the way engines name an archived directory's entries. */
function tarOf(entries: Array<{ name: string; type?: 'directory' | 'file' | 'symlink'; body?: string; linkname?: string }>): Readable {
  const p = pack();
  for (const e of entries) {
    if (e.type === 'directory') p.entry({ name: e.name, type: 'directory', mtime: new Date(0) });
    else if (e.type === 'symlink') p.entry({ name: e.name, type: 'symlink', linkname: e.linkname, mtime: new Date(0) });
    else p.entry({ name: e.name, mtime: new Date(0) }, e.body ?? '');
  }
  p.finalize();
  return p as unknown as Readable;
}

describe('listArchive', () => {
  it('keeps only the direct children of the archived directory, directories first', async () => {
    const list = await listArchive(tarOf([
      { name: 'etc/', type: 'directory' }, { name: 'etc/passwd', body: 'root:x:0:0' }, { name: 'etc/ssl/', type: 'directory' },
      { name: 'etc/ssl/cert.pem', body: 'x'.repeat(5000) }, { name: 'etc/mtab', type: 'symlink', linkname: '/proc/mounts' },
    ]), '/etc');
    expect(list.map((e) => [e.name, e.path, e.type, e.size])).toEqual([
      ['ssl', '/etc/ssl', 'directory', 0], ['mtab', '/etc/mtab', 'symlink', 0], ['passwd', '/etc/passwd', 'file', 10],
    ]);
    expect(list[1]!.linkTarget).toBe('/proc/mounts');
  });

  it('reads the root, whose entries dockerd names with a leading slash', async () => {
    const list = await listArchive(tarOf([
      { name: '/', type: 'directory' }, { name: '/.dockerenv' }, { name: '/bin/', type: 'directory' }, { name: '/bin/sh', body: '#!' },
    ]), '/');
    expect(list.map((e) => e.path)).toEqual(['/bin', '/.dockerenv']);
  });
});
