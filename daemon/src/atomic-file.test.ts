import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFileAtomic, writeFileAtomicSync } from './atomic-file';

const made: string[] = [];
const dir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'berth-atomic-'));
  made.push(d);
  return d;
};
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('atomic writes', () => {
  it('replace the whole content and leave no temporary file behind', async () => {
    const d = dir();
    const file = path.join(d, 'state.json');
    writeFileSync(file, 'old content that is longer than the new one');
    writeFileAtomicSync(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    await writeFileAtomic(file, 'newer', { durable: false });
    expect(readFileSync(file, 'utf8')).toBe('newer');
    expect(readdirSync(d)).toEqual(['state.json']);
  });

  it('create files with the mode asked for (private by default)', () => {
    const d = dir();
    writeFileAtomicSync(path.join(d, 'a'), 'x');
    writeFileAtomicSync(path.join(d, 'b'), 'x', { mode: 0o644 });
    expect(statSync(path.join(d, 'a')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(d, 'b')).mode & 0o777).toBe(0o644);
  });

  it('leave the old content and no temporary file when the write fails', async () => {
    const d = dir();
    const file = path.join(d, 'state.json');
    writeFileSync(file, 'old');
    // A value that cannot be written: the failure happens after the temporary file is open.
    const bad = { toString: () => { throw new Error('boom'); } } as unknown as string;
    expect(() => writeFileAtomicSync(file, bad)).toThrow();
    await expect(writeFileAtomic(file, bad)).rejects.toThrow();
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(d)).toEqual(['state.json']);
  });
});
