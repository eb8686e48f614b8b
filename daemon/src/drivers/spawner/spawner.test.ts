import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Spawner, runWithNode, type CommandOutput } from './spawner';
import { isMounted } from '../graph/mounts';

const spawner = new Spawner();
afterAll(() => spawner.close());

const text = (out: CommandOutput) => ({ code: out.code, signal: out.signal, stdout: out.stdout.toString(), stderr: out.stderr.toString() });

describe('Spawner (berth-shim --spawner)', () => {
  it('answers as Node does: exit code, stdout and stderr apart', async () => {
    const script = 'echo out; echo err >&2; exit 3';
    const viaSpawner = text(await spawner.run('sh', ['-c', script]));
    expect(viaSpawner).toEqual({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n' });
    expect(text(await runWithNode('sh', ['-c', script]))).toEqual(viaSpawner);
  });

  it('passes arguments verbatim, the working directory, and input larger than a pipe', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-spawner-'));
    try {
      const args = await spawner.run('sh', ['-c', 'pwd; printf "%s|" "$@"', 'sh', 'a b', '', 'ü\\n'], { cwd: dir });
      expect(args.stdout.toString()).toBe(`${dir}\na b||ü\\n|`);
      const input = Buffer.alloc(3 << 20, 'xyz');
      const out = await spawner.run('wc', ['-c'], { input });
      expect(out.stdout.toString().trim()).toBe(String(input.length));
      const echoed = await spawner.run('cat', [], { input });
      expect(echoed.stdout.equals(input)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails to start as Node does: the same error code', async () => {
    const viaSpawner = await spawner.run('/nonexistent/berth-command', []).catch((e: NodeJS.ErrnoException) => e);
    const viaNode = await runWithNode('/nonexistent/berth-command', []).catch((e: NodeJS.ErrnoException) => e);
    expect(viaSpawner).toBeInstanceOf(Error);
    expect((viaSpawner as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect((viaSpawner as NodeJS.ErrnoException).code).toBe((viaNode as NodeJS.ErrnoException).code);
    expect((viaSpawner as Error).message).toBe((viaNode as Error).message);
    const badCwd = await spawner.run('true', [], { cwd: '/nonexistent/dir' }).catch((e: NodeJS.ErrnoException) => e);
    expect((badCwd as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('reports the signal that ended a command, and kills one that outlives its timeout', async () => {
    expect(text(await spawner.run('sh', ['-c', 'kill -TERM $$']))).toMatchObject({ code: -1, signal: 'SIGTERM' });
    const slow = await spawner.run('sleep', ['30'], { timeoutMs: 100 });
    expect(slow).toMatchObject({ code: -1, signal: 'SIGKILL' });
  });

  it('keeps concurrent commands apart', async () => {
    const runs = await Promise.all(Array.from({ length: 40 }, (_, i) => spawner.run('sh', ['-c', `sleep 0.0${i % 5}; echo ${i}; exit ${i % 7}`])));
    runs.forEach((r, i) => {
      expect(r.stdout.toString()).toBe(`${i}\n`);
      expect(r.code).toBe(i % 7);
    });
  });

  it('starts a new helper after the old one died, and fails only the commands it was running', async () => {
    const pidOf = async () => Number((await spawner.run('sh', ['-c', 'echo $PPID'])).stdout.toString());
    const first = await pidOf();
    const running = spawner.run('sleep', ['30']);
    await new Promise((r) => setTimeout(r, 50));
    process.kill(first, 'SIGKILL');
    await expect(running).rejects.toThrow(/spawner exited/);
    const second = await pidOf();
    expect(second).not.toBe(first);
  });

  it('falls back to Node where the binary is no spawner', async () => {
    const notASpawner = new Spawner('/bin/false');
    expect(text(await notASpawner.run('sh', ['-c', 'echo $PPID; echo fine']))).toMatchObject({ code: 0, stdout: `${process.pid}\nfine\n` });
  });

  it('mounts, unmounts and makes network namespaces with its builtins', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-spawner-'));
    try {
      for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(path.join(dir, d));
      writeFileSync(path.join(dir, 'lower', 'f'), 'from below');
      // Relative paths resolve from the request's working directory, as mount(8)'s do.
      const mounted = await spawner.runBuiltin(['mount', 'overlay', 'overlay', 'merged', 'lowerdir=lower,upperdir=upper,workdir=work'], ['false'], { cwd: dir });
      expect(text(mounted)).toMatchObject({ code: 0, stderr: '' });
      expect(isMounted(path.join(dir, 'merged'))).toBe(true);
      expect(readFileSync(path.join(dir, 'merged', 'f'), 'utf8')).toBe('from below');
      expect((await spawner.runBuiltin(['umount', path.join(dir, 'merged')], ['false'])).code).toBe(0);
      expect(isMounted(path.join(dir, 'merged'))).toBe(false);
      const again = text(await spawner.runBuiltin(['umount', path.join(dir, 'merged')], ['false']));
      expect(again.code).toBe(1);
      expect(again.stderr).toBe(`umount: ${path.join(dir, 'merged')}: Invalid argument\n`);

      const netns = path.join(dir, 'netns');
      expect(text(await spawner.runBuiltin(['netns', netns], ['false']))).toMatchObject({ code: 0, stderr: '' });
      try {
        expect(isMounted(netns)).toBe(true);
        const links = (await spawner.run('nsenter', [`--net=${netns}`, 'ip', '-o', 'link'])).stdout.toString();
        expect(links.trim().split('\n')).toHaveLength(1); // only its own loopback
        expect(links).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/);
      } finally {
        await spawner.runBuiltin(['umount', netns], ['false']);
      }
      expect(isMounted(netns)).toBe(false);
      expect((await spawner.runBuiltin(['no-such-builtin'], ['false'])).code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the command instead of a builtin where there is no spawner', async () => {
    const notASpawner = new Spawner('/bin/false');
    expect(text(await notASpawner.runBuiltin(['umount', '/nonexistent'], ['sh', '-c', 'echo fallback']))).toMatchObject({ code: 0, stdout: 'fallback\n' });
  });
});
