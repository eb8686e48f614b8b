// The docker CLI's own share of a figure: the same command against a stand-in engine that answers
// each request at once and does no work (no container, no image, no build). What is left of an
// engine's time above it is the engine's; a goal below it cannot be met by any engine here.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { medianMs } from './harness';

const run = promisify(execFile);
const ID = 'f'.repeat(64);

/** Answers what `docker exec`, `docker run --rm` and `docker build` ask, as an engine that is instant. */
function standIn(): http.Server {
  let started: () => void = () => undefined;
  let startedOnce = new Promise<void>((resolve) => (started = resolve));
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.51' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '').replace(/^\/v[\d.]+/, '').split('?')[0]!;
    req.resume();
    if (url === '/_ping') {
      res.writeHead(200, { 'Api-Version': '1.51', 'OSType': 'linux', 'Docker-Experimental': 'false', 'Content-Type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
    } else if (url === '/containers/create') {
      startedOnce = new Promise<void>((resolve) => (started = resolve));
      json(res, 201, { Id: ID, Warnings: [] });
    } else if (/^\/containers\/[^/]+\/json$/.test(url)) {
      json(res, 200, { Id: ID, State: { Status: 'running', Running: true }, Config: { Tty: false }, HostConfig: {} });
    } else if (/^\/containers\/[^/]+\/start$/.test(url)) {
      res.writeHead(204).end();
      started();
    } else if (/^\/containers\/[^/]+\/wait$/.test(url)) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      void startedOnce.then(() => res.end(JSON.stringify({ StatusCode: 0, Error: null })));
    } else if (/^\/containers\/[^/]+\/exec$/.test(url)) {
      json(res, 201, { Id: ID });
    } else if (/^\/exec\/[^/]+\/json$/.test(url)) {
      json(res, 200, { ID, Running: false, ExitCode: 0, ContainerID: ID, Pid: 0 });
    } else if (url === '/build') {
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(`${JSON.stringify({ aux: { ID: `sha256:${ID}` } })}\n${JSON.stringify({ stream: `Successfully built ${ID.slice(0, 12)}\n` })}\n`);
      });
    } else {
      json(res, 404, { message: `the stand-in does not answer ${req.method} ${url}` });
    }
  });
  // Attach and exec start are hijacked: the stream ends as for a process that printed nothing,
  // once the client has sent all it sends (its request body, then its half-close): ending
  // before that could reset the connection under a write of the CLI's. The socket is ours once
  // upgraded: destroyed here, or the server's close would wait for it.
  server.on('upgrade', (_req: http.IncomingMessage, socket) => {
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    socket.on('error', () => socket.destroy());
    socket.on('end', () => socket.end(() => socket.destroy()));
    socket.resume();
  });
  return server;
}

/** Median time of `docker ARGS` against the stand-in, in ms. */
export async function cliFloorMs(args: string[], runs: number, warmup = 2): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-cli-floor-'));
  const socket = path.join(dir, 'engine.sock');
  const server = standIn();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  try {
    const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: path.join(dir, 'config') };
    return await medianMs(() => run('docker', args, { env, maxBuffer: 16 << 20 }), runs, warmup);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** "(the docker CLI alone: 21.0 ms = 0.28× dockerd)" */
export function cliFloorNote(ms: number, baseline: number | undefined): string {
  return `(the docker CLI alone, against an engine that does nothing: ${ms.toFixed(1)} ms${baseline ? ` = ${(ms / baseline).toFixed(2)}× dockerd` : ''})`;
}
