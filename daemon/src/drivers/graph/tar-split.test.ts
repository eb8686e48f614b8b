import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { extractLayer } from './extract';
import { TarSplitRecorder, assembleTar } from './tar-split';
import { tarOf } from './test-tar';


async function collect(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
}

let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

/** Unpacks `tar` fed in odd-sized chunks while recording, then rebuilds it from the files. */
async function roundTrip(tar: Buffer, chunk = 777): Promise<Buffer> {
  dir = mkdtempSync(path.join(tmpdir(), 'berth-tarsplit-'));
  const root = path.join(dir, 'layer');
  mkdirSync(root);
  const recorder = new TarSplitRecorder();
  const pieces: Buffer[] = [];
  for (let i = 0; i < tar.length; i += chunk) pieces.push(tar.subarray(i, i + chunk));
  for (const p of pieces) recorder.feed(p);
  await extractLayer(Readable.from(pieces), root, 'overlay');
  return collect(assembleTar(recorder.finish(), root));
}

describe('tar-split', () => {
  it('rebuilds a layer byte for byte from its record and the unpacked files', async () => {
    const tar = await tarOf([
      { name: 'etc/', type: 'directory', mode: 0o755 },
      { name: 'etc/hosts', body: '127.0.0.1 localhost\n' },
      { name: 'a'.repeat(120) + '/long-name-needs-pax-or-prefix.txt', body: Buffer.alloc(5000, 1) },
      { name: 'link', type: 'symlink', linkname: 'etc/hosts' },
      { name: 'hard', type: 'link', linkname: 'etc/hosts' },
      { name: 'data/.wh.gone', body: '' },
      { name: 'big.bin', body: Buffer.alloc(3 * 1024 * 1024 + 3, 9) },
    ]);
    expect((await roundTrip(tar)).equals(tar)).toBe(true);
  });

  it('rebuilds a GNU tar made by tar(1), with long names and a PAX xattr', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-tarsplit-src-'));
    const src = path.join(dir, 'src');
    mkdirSync(path.join(src, 'x'.repeat(150)), { recursive: true });
    execFileSync('sh', ['-c', `printf hello > ${src}/${'x'.repeat(150)}/f; printf world > ${src}/g`]);
    const gnu = execFileSync('tar', ['-C', src, '--format=gnu', '-c', '.'], { maxBuffer: 1 << 26 });
    const srcDir = dir;
    const rebuilt = await roundTrip(gnu, 1000);
    rmSync(srcDir, { recursive: true, force: true });
    expect(rebuilt.equals(gnu)).toBe(true);
    expect(readFileSync(path.join(dir!, 'layer', 'g'), 'utf8')).toBe('world');
  });
});
