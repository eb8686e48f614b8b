// The firewall: every rule berthd needs lives in its own nftables table (`inet berth` unless
// configured), so it never edits the host's rules or another engine's (dockerd's iptables chains).
// The whole table is rendered from berthd's state and replaced in one nft transaction, so the
// kernel never sees a half-written rule set and a restart restores exactly what the state says.
import { command, mustRun } from './command';

export interface FirewallNetwork {
  bridge: string;
  subnet: string;
  gateway: string;
  /** Internal networks reach nothing outside their bridge. */
  internal: boolean;
}

export interface FirewallPort {
  proto: 'tcp' | 'udp';
  /** "" or 0.0.0.0: every local address. */
  hostIp: string;
  hostPort: number;
  targetIp: string;
  targetPort: number;
}

export interface FirewallDns {
  bridge: string;
  gateway: string;
  /** Where the embedded resolver listens on the gateway address. */
  port: number;
}

export interface FirewallState {
  networks: FirewallNetwork[];
  ports: FirewallPort[];
  dns: FirewallDns[];
}

const q = (name: string): string => JSON.stringify(name);

/** The table's full text, deterministic for a given state. */
export function renderRuleset(table: string, state: FirewallState): string {
  const bridges = state.networks.map((n) => n.bridge);
  const portRules = state.ports.map((p) => {
    const daddr = p.hostIp && p.hostIp !== '0.0.0.0' ? `ip daddr ${p.hostIp} ` : '';
    return `    ${daddr}${p.proto} dport ${p.hostPort} dnat ip to ${p.targetIp}:${p.targetPort}`;
  });
  const dnsRules = state.dns.flatMap((d) => (['udp'] as const).map(
    (proto) => `    iifname ${q(d.bridge)} ip daddr ${d.gateway} ${proto} dport 53 redirect to :${d.port}`,
  ));
  // The gateway's address leads to the host's loopback services (a server on 127.0.0.1:3000 is
  // http://host.docker.internal:3000 in a container), as Docker Desktop does; the DNS redirect
  // above stays first. route_localnet on the bridge lets the kernel accept it.
  const hostLoopback = state.networks.filter((n) => !n.internal).map(
    (n) => `    iifname ${q(n.bridge)} ip daddr ${n.gateway} dnat ip to 127.0.0.1`,
  );
  const masquerade = state.networks.flatMap((n) => [
    // Containers going out through the host take its address (not for internal networks).
    ...(n.internal ? [] : [`    ip saddr ${n.subnet} oifname != ${q(n.bridge)} masquerade`]),
    // Published ports reached from the host's loopback (DNAT in output, route_localnet on the bridge).
    `    ip saddr 127.0.0.0/8 oifname ${q(n.bridge)} masquerade`,
    // Hairpin: a container reaching a published port that leads back onto its own bridge.
    `    iifname ${q(n.bridge)} oifname ${q(n.bridge)} ct status dnat masquerade`,
  ]);
  const forward = state.networks.flatMap((n) => {
    const others = bridges.filter((b) => b !== n.bridge);
    const rules: string[] = [];
    // Networks are isolated from each other, as dockerd's DOCKER-ISOLATION chains do.
    if (others.length > 0) rules.push(`    iifname ${q(n.bridge)} oifname { ${others.map(q).join(', ')} } drop`);
    if (n.internal) {
      rules.push(`    iifname ${q(n.bridge)} oifname != ${q(n.bridge)} drop`);
      rules.push(`    oifname ${q(n.bridge)} iifname != ${q(n.bridge)} drop`);
    } else {
      rules.push(`    oifname ${q(n.bridge)} ct state established,related accept`);
      rules.push(`    oifname ${q(n.bridge)} ct status dnat accept`);
      rules.push(`    iifname ${q(n.bridge)} accept`);
    }
    return rules;
  });
  return [
    `table inet ${table} {`,
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    ...dnsRules,
    ...hostLoopback,
    '    fib daddr type local jump published',
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    '    fib daddr type local jump published',
    '  }',
    '  chain published {',
    ...portRules,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...masquerade,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    ...forward,
    '  }',
    '}',
  ].join('\n') + '\n';
}

export class Firewall {
  constructor(readonly table: string) {}

  /** Replaces the table with the rendering of `state`, atomically. */
  async apply(state: FirewallState): Promise<void> {
    // `add table` makes the delete safe when the table does not exist yet; all three lines are
    // one transaction.
    const script = `add table inet ${this.table}\ndelete table inet ${this.table}\n${renderRuleset(this.table, state)}`;
    await mustRun(`error applying the firewall rules of table inet ${this.table}`, 'nft', ['-f', '-'], script);
  }

  /** Removes the table and every rule in it (shutdown, tests). */
  async remove(): Promise<void> {
    await command('nft', ['delete', 'table', 'inet', this.table]);
  }

  async exists(): Promise<boolean> {
    const r = await command('nft', ['list', 'table', 'inet', this.table]);
    return r.code === 0;
  }
}
