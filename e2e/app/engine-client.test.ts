// The app's engine client against a real engine (BERTH_APP_ENGINE): version negotiation, the
// multiplexed log stream, hijacked exec with and without a tty, the events stream, and errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineClient } from '../../app/main/engine/engine-client';
import { parseEndpoint } from '../../app/main/engine/endpoint';
import { EngineError } from '../../app/main/engine/engine-error';
import { MultiplexedStreamDecoder } from '../../app/main/engine/multiplexed-stream';
import { CLIENT_API_VERSION, compareVersions } from '../../app/main/engine/engine-transport';
import { docker, removeContainers, startTestEngine, uniqueName, type TestEngine, engineChoice } from './harness';

let engine: TestEngine;
let client: EngineClient;
const printer = uniqueName('printer');
const sleeper = uniqueName('sleeper');
const names = [printer, sleeper];

beforeAll(async () => {
  engine = await startTestEngine();
  client = new EngineClient(parseEndpoint(engine.endpoint));
  await docker(engine, 'run', '--name', printer, engine.image, 'sh', '-c', 'echo one; echo two >&2; echo three');
  await docker(engine, 'run', '-d', '--name', sleeper, engine.image, 'sleep', '3600');
}, 300_000);

afterAll(async () => {
  client?.close();
  await removeContainers(engine, names);
  await engine?.stop();
});

/** Collects a stream until it ends, demultiplexed unless raw. */
async function collect(stream: AsyncIterable<Buffer | string>, raw = false): Promise<{ stdout: string; stderr: string }> {
  const demux = new MultiplexedStreamDecoder();
  const out = { stdout: '', stderr: '' };
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    if (raw) out.stdout += buf.toString();
    else for (const p of demux.push(buf)) if (p.stream !== 'stdin') out[p.stream] += p.data.toString();
  }
  return out;
}

describe(`engine client against ${engineChoice}`, () => {
  it('negotiates the lower of the engine\'s API version and its own', async () => {
    const ping = await client.ping();
    expect(compareVersions(ping.apiVersion, CLIENT_API_VERSION)).toBeLessThanOrEqual(0);
    expect(compareVersions(ping.apiVersion, '1.24')).toBeGreaterThanOrEqual(0);
    const version = await client.version();
    expect(compareVersions(version.ApiVersion ?? '0', ping.apiVersion)).toBeGreaterThanOrEqual(0);
  });

  it('lists the containers the docker CLI made', async () => {
    const list = await client.listContainers(true, { name: [printer] });
    expect(list.map((c) => c.Names?.[0])).toEqual([`/${printer}`]);
    expect(list[0]!.State).toBe('exited');
  });

  it('reads a log with stdout and stderr kept apart', async () => {
    const res = await client.containerLogs(printer, { follow: false, timestamps: false, tail: 'all' });
    expect(await collect(res)).toEqual({ stdout: 'one\nthree\n', stderr: 'two\n' });
  });

  it('runs an exec without a tty over a hijacked, multiplexed connection', async () => {
    const id = await client.createExec(sleeper, { Cmd: ['sh', '-c', 'echo to-out; echo to-err >&2'], AttachStdout: true, AttachStderr: true });
    const socket = await client.startExec(id, false);
    expect(await collect(socket)).toEqual({ stdout: 'to-out\n', stderr: 'to-err\n' });
    await expect.poll(async () => (await client.inspectExec(id)).ExitCode).toBe(0);
  });

  it('runs an interactive shell with a tty: keystrokes in, screen out', async () => {
    const id = await client.createExec(sleeper, { Cmd: ['sh'], AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true });
    const socket = await client.startExec(id, true);
    await client.resizeExec(id, 100, 30);
    socket.write('echo $((40+2))-$(stty size)\nexit\n');
    const { stdout } = await collect(socket, true);
    expect(stdout).toContain('42-30 100');
  });

  it('streams events as the CLI changes a container', async () => {
    const controller = new AbortController();
    const since = String(Math.floor(Date.now() / 1000) - 1);
    const stream = await client.events(since, controller.signal);
    const name = uniqueName('evented');
    names.push(name);
    await docker(engine, 'run', '--name', name, engine.image, 'true');
    const actions: string[] = [];
    for await (const e of stream) {
      if (e.Type === 'container' && e.Actor?.Attributes?.name === name) actions.push(e.Action ?? '');
      if (actions.includes('die')) break;
    }
    controller.abort();
    expect(actions).toEqual(expect.arrayContaining(['create', 'start', 'die']));
    expect(actions.indexOf('create')).toBeLessThan(actions.indexOf('start'));
  });

  it('turns an engine error into an EngineError with its status and message', async () => {
    const err = await client.inspectContainer('no-such-container-here').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).status).toBe(404);
    expect((err as EngineError).message).toMatch(/No such container: no-such-container-here/);
  });
});
