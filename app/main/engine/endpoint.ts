// Where the engine is: a unix socket or TCP (plain or TLS), written the way docker contexts and
// DOCKER_HOST write it. The settings' endpoint wins, then DOCKER_HOST, then the default socket.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EngineError } from './engine-error.js';

export type Endpoint =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; verify: boolean } };

export const DEFAULT_ENDPOINT = 'unix:///var/run/docker.sock';

export function resolveEndpoint(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const url = configured?.trim() || env.DOCKER_HOST?.trim() || DEFAULT_ENDPOINT;
  return parseEndpoint(url, env);
}

export function parseEndpoint(url: string, env: NodeJS.ProcessEnv = {}): Endpoint {
  if (url.startsWith('/')) return { kind: 'unix', socketPath: url };
  const match = /^([a-z]+):\/\/(.*)$/.exec(url);
  if (!match) throw new EngineError(400, `invalid engine endpoint "${url}": expected unix:///path or tcp://host:port`);
  const [, scheme, rest] = match as unknown as [string, string, string];
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw new EngineError(400, `invalid engine endpoint "${url}": a unix socket path must be absolute`);
    return { kind: 'unix', socketPath: rest };
  }
  if (scheme === 'tcp' || scheme === 'http' || scheme === 'https') {
    const hostPort = rest.replace(/\/+$/, '');
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort);
    if (!m) throw new EngineError(400, `invalid engine endpoint "${url}": expected tcp://host:port`);
    const host = m[1]!.replace(/^\[|\]$/g, '');
    const tlsWanted = scheme === 'https' || Boolean(env.DOCKER_TLS_VERIFY) || env.DOCKER_TLS === '1';
    const port = m[2] ? Number(m[2]) : tlsWanted ? 2376 : 2375;
    if (!tlsWanted) return { kind: 'tcp', host, port };
    return { kind: 'tcp', host, port, tls: loadTls(env) };
  }
  if (scheme === 'ssh') throw new EngineError(400, `engine endpoint "${url}": ssh endpoints are not supported yet; forward the socket with "ssh -L" and use unix:// or tcp://`);
  throw new EngineError(400, `invalid engine endpoint "${url}": unsupported scheme "${scheme}"`);
}

/** Certificates from DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem), as the docker CLI reads them. */
function loadTls(env: NodeJS.ProcessEnv): { ca?: Buffer; cert?: Buffer; key?: Buffer; verify: boolean } {
  const dir = env.DOCKER_CERT_PATH;
  const read = (name: string): Buffer | undefined => {
    if (!dir) return undefined;
    try {
      return readFileSync(path.join(dir, name));
    } catch {
      return undefined;
    }
  };
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem'), verify: Boolean(env.DOCKER_TLS_VERIFY) };
}

export function describeEndpoint(e: Endpoint): string {
  return e.kind === 'unix' ? `unix://${e.socketPath}` : `tcp://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;
}
