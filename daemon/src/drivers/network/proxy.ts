// The userland proxy, in berthd's own process (dockerd runs one docker-proxy process per port).
// It holds the published host port, so another program cannot take it while the container runs,
// and forwards what the kernel's DNAT does not catch (IPv6 loopback, a host without nftables).
import net from 'node:net';
import type dgram from 'node:dgram';

export interface ProxyTarget {
  host: string;
  port: number;
}

export interface PortProxy {
  readonly proto: 'tcp' | 'udp';
  /** The port actually bound (the kernel's choice when 0 was asked). */
  readonly port: number;
  close(): Promise<void>;
}

/** dockerd's wording for a taken port. */
export class PortTakenError extends Error {
  constructor(readonly hostIp: string, readonly port: number, proto: string) {
    super(`Bind for ${hostIp || '0.0.0.0'}:${port}${proto === 'udp' ? '/udp' : ''} failed: port is already allocated`);
  }
}

/** Every local address: dual-stack :: when the host has IPv6, else 0.0.0.0. */
function bindAddress(hostIp: string): string {
  return hostIp === '' || hostIp === '0.0.0.0' ? '::' : hostIp;
}

export function listenTcp(hostIp: string, port: number, target: ProxyTarget): Promise<PortProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    sockets.add(client).add(upstream);
    const done = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return listen(server, hostIp, port, () => ({
    proto: 'tcp' as const,
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  }));
}

function listen<T>(server: net.Server, hostIp: string, port: number, make: () => T): Promise<T> {
  const attempt = (host: string) => new Promise<T>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(err);
    server.once('error', onError);
    server.listen({ host, port, ipv6Only: false, exclusive: true }, () => {
      server.off('error', onError);
      resolve(make());
    });
  });
  const host = bindAddress(hostIp);
  return attempt(host).catch((err: NodeJS.ErrnoException) => {
    // No IPv6 on this host: every IPv4 address then.
    if (host === '::' && (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL')) return attempt('0.0.0.0');
    throw err;
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES') throw new PortTakenError(hostIp, port, 'tcp');
    throw err;
  });
}

/** UDP: one upstream socket per client address, dropped after a quiet minute. */
export function listenUdp(hostIp: string, port: number, target: ProxyTarget): Promise<PortProxy> {
  const host = bindAddress(hostIp);
  // (a built-in loaded on first use, not at start: see components.ts)
  const { createSocket } = process.getBuiltinModule('node:dgram');
  const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', ipv6Only: false });
  type Flow = { upstream: dgram.Socket; timer?: NodeJS.Timeout; pending: Buffer[] | null };
  const flows = new Map<string, Flow>();
  const quiet = 60_000;
  socket.on('message', (msg, from) => {
    const key = `${from.address}|${from.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const upstream = createSocket('udp4');
      const created: Flow = { upstream, pending: [] };
      upstream.on('message', (reply) => socket.send(reply, from.port, from.address));
      upstream.on('error', () => undefined);
      // Datagrams that arrive before the connect completes wait for it.
      upstream.connect(target.port, target.host, () => {
        for (const m of created.pending ?? []) upstream.send(m);
        created.pending = null;
      });
      flows.set(key, created);
      flow = created;
    }
    const current = flow;
    clearTimeout(current.timer);
    current.timer = setTimeout(() => {
      current.upstream.close();
      flows.delete(key);
    }, quiet);
    current.timer.unref();
    if (current.pending) current.pending.push(msg);
    else current.upstream.send(msg);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? new PortTakenError(hostIp, port, 'udp') : err);
    });
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      resolve({
        proto: 'udp',
        port: socket.address().port,
        close: () => new Promise<void>((done) => {
          for (const f of flows.values()) {
            clearTimeout(f.timer);
            f.upstream.close();
          }
          flows.clear();
          socket.close(() => done());
        }),
      });
    });
  });
}
