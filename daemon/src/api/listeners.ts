// Where the API listens: `unix://PATH` (mode 0660, group `berth` when it exists) and `tcp://HOST:PORT`.
// TCP off loopback requires TLS with client-certificate verification: an unauthenticated TCP socket
// is root on the host for anyone who can reach it, so berthd refuses to start instead.
import type http from 'node:http';
import net from 'node:net';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { DaemonConfig } from '../config';

export interface Listener {
  address: string;
  server: http.Server;
}

export type Endpoint = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export function parseHost(raw: string): Endpoint {
  if (raw.startsWith('unix://')) {
    const p = raw.slice('unix://'.length);
    if (!p) throw new Error(`invalid host ${raw}: the unix socket path is empty`);
    return { kind: 'unix', path: p };
  }
  if (raw.startsWith('/')) return { kind: 'unix', path: raw };
  const m = /^(?:tcp:\/\/)?(\[[0-9a-fA-F:]+\]|[^:/]*)(?::(\d+))?\/?$/.exec(raw);
  if (!m) throw new Error(`invalid host ${JSON.stringify(raw)}: use unix:///path or tcp://host:port`);
  const host = (m[1] || '127.0.0.1').replace(/^\[|\]$/g, '');
  return { kind: 'tcp', host, port: m[2] ? Number(m[2]) : 2375 };
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);

/** The TLS options for TCP listeners, or why the configuration is refused. */
export function tlsFor(endpoint: Endpoint, config: DaemonConfig): { key: Buffer; cert: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean } | undefined {
  if (endpoint.kind !== 'tcp') return undefined;
  const address = `tcp://${endpoint.host}:${endpoint.port}`;
  if (!config.tls) {
    if (isLoopback(endpoint.host)) return undefined;
    throw new Error(`refusing to listen on ${address} without TLS: anyone who reaches it controls the host. Use --tlsverify with --tlscacert, --tlscert and --tlskey, or listen on 127.0.0.1`);
  }
  if (!isLoopback(endpoint.host) && !config.tlsverify) {
    throw new Error(`refusing to listen on ${address} with TLS but without client-certificate verification: add --tlsverify and --tlscacert`);
  }
  if (!config.tlscert || !config.tlskey) throw new Error(`TLS on ${address} needs --tlscert and --tlskey`);
  if (config.tlsverify && !config.tlscacert) throw new Error(`--tlsverify on ${address} needs --tlscacert to verify clients against`);
  return {
    key: readFileSync(config.tlskey),
    cert: readFileSync(config.tlscert),
    ca: config.tlscacert ? readFileSync(config.tlscacert) : undefined,
    requestCert: config.tlsverify,
    rejectUnauthorized: config.tlsverify,
  };
}

/** Removes a socket file left by a daemon that died, and refuses one that still answers. */
async function claimSocketPath(p: string): Promise<void> {
  mkdirSync(path.dirname(p), { recursive: true });
  if (!existsSync(p)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(p);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another daemon is already listening on unix://${p}`);
  unlinkSync(p);
}

function groupId(name: string): number | undefined {
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [n, , gid] = line.split(':');
      if (n === name && gid !== undefined) return Number(gid);
    }
  } catch {
    // No /etc/group: the socket keeps root's group.
  }
  return undefined;
}

export async function listen(endpoint: Endpoint, server: http.Server, group: string): Promise<Listener> {
  if (endpoint.kind === 'unix') {
    await claimSocketPath(endpoint.path);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(endpoint.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(endpoint.path, 0o660);
    const gid = groupId(group);
    if (gid !== undefined) chownSync(endpoint.path, 0, gid);
    return { address: `unix://${endpoint.path}`, server };
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(endpoint.port, endpoint.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as net.AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return { address: `tcp://${host}:${addr.port}`, server };
}
