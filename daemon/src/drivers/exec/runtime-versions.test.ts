// Runtime versions remembered across starts by the binary's identity: asked once, asked again
// when the binary is replaced.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rememberedVersions, type VersionProbe } from './runtime';

const dir = mkdtempSync(path.join(tmpdir(), 'berth-runtime-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rememberedVersions', () => {
  it('asks each binary once across restarts, and again after it changed', async () => {
    const runc = path.join(dir, 'runc');
    const crun = path.join(dir, 'crun');
    writeFileSync(runc, 'runc 1');
    writeFileSync(crun, 'crun 1');
    const asked: string[] = [];
    const ask: VersionProbe = async (bin) => {
      asked.push(path.basename(bin));
      return { version: `${path.basename(bin)}-v${asked.length}`, commit: 'c' };
    };
    const file = path.join(dir, 'runtime-versions.json');

    const first = rememberedVersions(file, ask);
    const [a, b] = await Promise.all([first(runc), first(crun)]);
    expect(asked.sort()).toEqual(['crun', 'runc']);

    // a restart: both answers come from the file
    const second = rememberedVersions(file, ask);
    expect(await second(runc)).toEqual(a);
    expect(await second(crun)).toEqual(b);
    expect(asked).toHaveLength(2);

    // runc replaced by a different build: asked again, crun still remembered
    writeFileSync(runc, 'runc 2, a larger binary');
    const third = rememberedVersions(file, ask);
    expect((await third(runc)).version).toBe('runc-v3');
    expect(await third(crun)).toEqual(b);
    expect(asked).toHaveLength(3);
  });

  it('asks when the file is unreadable', async () => {
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{not json');
    const bin = path.join(dir, 'runc');
    let asked = 0;
    const probe = rememberedVersions(file, async () => ({ version: String(++asked), commit: '' }));
    expect(await probe(bin)).toEqual({ version: '1', commit: '' });
  });
});
