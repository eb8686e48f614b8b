import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { Engine, type JobEvent } from './engine';
import { Logger } from '../log';

declare module './engine' {
  interface JobTable {
    'test.add': { args: { a: number; b: number }; result: number };
    'test.fail': { args: void; result: void };
    'test.wait': { args: { steps: number }; result: string };
    'test.echo': { args: { text: string }; result: void };
  }
}

const quiet = new Logger({ write: () => true });

function engine(): Engine {
  const e = new Engine(quiet);
  e.register('test.add', async (job) => job.args.a + job.args.b);
  e.register('test.fail', async () => {
    throw new Error('it broke');
  });
  e.register('test.wait', async (job) => {
    for (let i = 0; i < job.args.steps; i++) {
      job.throwIfCancelled();
      job.setProgress({ current: i, total: job.args.steps });
      await new Promise((r) => setTimeout(r, 5));
    }
    return 'finished';
  });
  e.register('test.echo', async (job) => {
    job.stdout.write(`${job.args.text} ${job.env.WHO ?? ''}`);
  });
  return e;
}

describe('Engine and Jobs', () => {
  it('runs a registered job and returns its result', async () => {
    expect(await engine().run('test.add', { a: 2, b: 3 })).toBe(5);
  });

  it('refuses to register a name twice', () => {
    const e = engine();
    expect(() => e.register('test.add', async () => 0)).toThrow(/already registered/);
  });

  it('gives a job its environment and its stdout', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    await engine().run('test.echo', { text: 'hello' }, { stdout: out, env: { WHO: 'berth' } });
    expect(text).toBe('hello berth');
  });

  it('records state, exit code and error of finished jobs', async () => {
    const e = engine();
    await e.run('test.add', { a: 1, b: 1 });
    await expect(e.run('test.fail', undefined)).rejects.toThrow('it broke');
    const [failed, ok] = e.list();
    expect(failed).toMatchObject({ name: 'test.fail', state: 'failed', exitCode: 1, error: 'it broke', cancellable: false });
    expect(ok).toMatchObject({ name: 'test.add', state: 'succeeded', exitCode: 0 });
  });

  it('lets observers follow a job from creation through progress to its end', async () => {
    const e = engine();
    const seen: JobEvent[] = [];
    const stop = e.onJob((ev) => seen.push(ev));
    await e.run('test.wait', { steps: 30 });
    stop();
    expect(seen[0]).toMatchObject({ kind: 'created', job: { name: 'test.wait', state: 'running' } });
    expect(seen.some((ev) => ev.kind === 'progress' && ev.job.progress.total === 30)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ kind: 'finished', job: { state: 'succeeded' } });
  });

  it('cancels a running job through its AbortSignal', async () => {
    const e = engine();
    const job = e.job('test.wait', { steps: 10_000 });
    const done = e.execute(job);
    setTimeout(() => job.cancel(), 20);
    await expect(done).rejects.toThrow('cancelled');
    expect(job.snapshot()).toMatchObject({ state: 'cancelled', cancellable: false });
  });

  it("cancels a job when its caller's signal aborts (a client that went away)", async () => {
    const caller = new AbortController();
    const run = engine().run('test.wait', { steps: 10_000 }, { signal: caller.signal });
    caller.abort();
    await expect(run).rejects.toThrow();
  });

  it('hides plumbing jobs from observers', async () => {
    const e = engine();
    await e.run('test.add', { a: 1, b: 2 }, { hidden: true });
    expect(e.list()).toEqual([]);
  });

  it('drains: waits for running jobs, then refuses new ones', async () => {
    const e = engine();
    const running = e.run('test.wait', { steps: 5 });
    await e.drain(5_000);
    await expect(running).resolves.toBe('finished');
    expect(() => e.job('test.add', { a: 1, b: 1 })).toThrow('berthd is shutting down');
  });

  it('drain cancels what is still running after its grace period', async () => {
    const e = engine();
    const running = e.run('test.wait', { steps: 100_000 });
    await e.drain(30);
    await expect(running).rejects.toThrow('berthd is shutting down');
  });
});
