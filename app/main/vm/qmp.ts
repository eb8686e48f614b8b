// A small client of qemu's machine protocol (QMP): JSON objects, one per line, over a unix socket.
// The VM manager uses it to quit qemu and, for published ports, to add and remove hostfwd rules.
import net from 'node:net';

interface Pending { resolve: (v: unknown) => void; reject: (e: Error) => void }

export class QmpClient {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => this.onData(d));
    socket.on('close', () => this.failAll(new Error('the qemu monitor connection closed')));
    socket.on('error', () => socket.destroy());
  }

  static async connect(socketPath: string): Promise<QmpClient> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(socketPath, () => { s.off('error', reject); resolve(s); });
      s.once('error', reject);
    });
    const client = new QmpClient(socket);
    await client.greeting;
    await client.execute('qmp_capabilities');
    return client;
  }

  private greetingSeen!: () => void;
  private readonly greeting = new Promise<void>((r) => { this.greetingSeen = r; });

  private onData(d: string): void {
    this.buffer += d;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as { QMP?: unknown; id?: number; return?: unknown; error?: { desc: string } };
      if (msg.QMP) { this.greetingSeen(); continue; }
      if (msg.id === undefined) continue; // events
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (!p) continue;
      if (msg.error) p.reject(new Error(`qemu: ${msg.error.desc}`));
      else p.resolve(msg.return);
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  get closed(): boolean {
    return this.socket.destroyed;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.socket.destroyed) return Promise.reject(new Error('the qemu monitor connection is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(`${JSON.stringify({ execute: command, arguments: args, id })}\n`);
    });
  }

  /** A human monitor command (hostfwd_add has no QMP form); qemu reports failures as text. */
  async hmp(commandLine: string): Promise<string> {
    const out = await this.execute<string>('human-monitor-command', { 'command-line': commandLine });
    return out ?? '';
  }

  close(): void {
    this.socket.destroy();
  }
}
