// The embedded DNS resolver of user-defined networks: it answers the names of the containers on
// its network (names, aliases, short ids) and forwards every other question to the upstream
// resolvers (the host's, or the container's --dns). One listens on each network's gateway address;
// the firewall sends the containers' port-53 queries to it.
import type dgram from 'node:dgram';
import * as packet from 'dns-packet';

/** Answers a name on this network with IPv4 addresses, or undefined when it is not ours. */
export type LocalLookup = (name: string) => string[] | undefined;

export interface Upstream {
  host: string;
  port: number;
}

/** "1.2.3.4" or "1.2.3.4:5353" (tests point at a resolver on loopback). */
export function parseUpstream(s: string): Upstream {
  const m = /^([\d.]+)(?::(\d+))?$/.exec(s.trim());
  return m ? { host: m[1]!, port: Number(m[2] ?? 53) } : { host: s.trim(), port: 53 };
}

const FORWARD_TIMEOUT_MS = 2000;
const TTL = 600;

export class DnsServer {
  private socket?: dgram.Socket;

  /** `upstreams(client)`: where to forward a question from that container's address (its --dns, or the host's). */
  constructor(private readonly lookup: LocalLookup, private readonly upstreams: (client: string) => Upstream[]) {}

  /** Binds on `address` (port 0: any free port) and returns the port. */
  listen(address: string, port = 0): Promise<number> {
    // (a built-in loaded on first use, not at start: see components.ts)
    const socket = process.getBuiltinModule('node:dgram').createSocket('udp4');
    this.socket = socket;
    socket.on('message', (msg, from) => {
      void this.answer(msg, from.address).then((reply) => {
        if (reply) socket.send(reply, from.port, from.address);
      });
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => {
        socket.off('error', reject);
        socket.on('error', () => undefined);
        resolve(socket.address().port);
      });
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    return new Promise((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
  }

  /** The reply to one query, or undefined to stay silent (garbage in). */
  async answer(msg: Buffer, client = ''): Promise<Buffer | undefined> {
    let query: packet.Packet;
    try {
      query = packet.decode(msg);
    } catch {
      return undefined;
    }
    const question = query.questions?.[0];
    if (!question || query.type !== 'query') return undefined;
    const name = question.name.replace(/\.$/, '').toLowerCase();
    const local = question.class === 'IN' || question.class === undefined ? this.lookup(name) : undefined;
    if (local) {
      const answers: packet.Answer[] = question.type === 'A'
        ? local.map((ip) => ({ type: 'A' as const, class: 'IN' as const, name: question.name, ttl: TTL, data: ip }))
        : [];
      // AAAA and other types of a local name: the name exists, with no such record (NOERROR, empty).
      return packet.encode({ id: query.id, type: 'response', flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | packet.AUTHORITATIVE_ANSWER, questions: [question], answers });
    }
    for (const upstream of this.upstreams(client)) {
      const reply = await forward(msg, upstream);
      if (reply) return reply;
    }
    return packet.encode({ id: query.id, type: 'response', flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | 2 /* SERVFAIL */, questions: [question] });
  }
}

function forward(msg: Buffer, upstream: Upstream): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = process.getBuiltinModule('node:dgram').createSocket('udp4');
    const finish = (reply?: Buffer) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(), FORWARD_TIMEOUT_MS);
    socket.on('error', () => finish());
    socket.on('message', (reply) => finish(reply));
    socket.send(msg, upstream.port, upstream.host);
  });
}
