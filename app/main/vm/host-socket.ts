// berthd's API as a host unix socket (a named pipe on Windows): each client connection is piped to
// the transport that reaches the guest (qemu's hostfwd on loopback, or WSL's localhost relay).
// Raw byte pipes, so hijacked attach/exec streams and HTTP upgrades pass unchanged.
import { chmodSync, rmSync } from 'node:fs';
import net from 'node:net';

export type ApiTarget = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export class HostSocketForwarder {
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server, readonly socketPath: string) {}

  static async listen(socketPath: string, target: ApiTarget): Promise<HostSocketForwarder> {
    if (process.platform !== 'win32') rmSync(socketPath, { force: true }); // a stale socket from a killed run
    // Half-open on both legs: docker's hijacked streams close their write side and keep reading.
    const server = net.createServer({ allowHalfOpen: true });
    const fwd = new HostSocketForwarder(server, socketPath);
    server.on('connection', (client) => fwd.pipe(client, target));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => { server.off('error', reject); resolve(); });
    });
    // Whoever reaches this socket controls the engine, as with /var/run/docker.sock: owner only.
    if (process.platform !== 'win32') chmodSync(socketPath, 0o600);
    return fwd;
  }

  private pipe(client: net.Socket, target: ApiTarget): void {
    const upstream = target.kind === 'tcp'
      ? net.connect({ port: target.port, host: target.host, allowHalfOpen: true })
      : net.connect({ path: target.path, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    // Half-closes pass through pipe(); errors end both sides.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (process.platform !== 'win32') rmSync(this.socketPath, { force: true });
  }
}
