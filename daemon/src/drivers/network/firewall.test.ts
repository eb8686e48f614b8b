import { describe, expect, it } from 'vitest';
import { command } from './command';
import { renderRuleset } from './firewall';
import { parseResolvConf, renderHosts, renderResolvConf } from './etc-files';

describe('firewall ruleset', () => {
  const state = {
    networks: [{ bridge: 'b0', subnet: '10.1.0.0/16', gateway: '10.1.0.1', internal: false }, { bridge: 'b1', subnet: '10.2.0.0/24', gateway: '10.2.0.1', internal: true }],
    ports: [{ proto: 'tcp' as const, hostIp: '', hostPort: 8080, targetIp: '10.1.0.2', targetPort: 80 }, { proto: 'udp' as const, hostIp: '127.0.0.1', hostPort: 5353, targetIp: '10.1.0.3', targetPort: 53 }],
    dns: [{ bridge: 'b1', gateway: '10.2.0.1', port: 40000 }],
  };

  it('masquerades only non-internal networks, isolates bridges, DNATs published ports', () => {
    const text = renderRuleset('t', state);
    expect(text).toContain('ip saddr 10.1.0.0/16 oifname != "b0" masquerade');
    expect(text).not.toContain('ip saddr 10.2.0.0/24 oifname != "b1" masquerade');
    expect(text).toContain('iifname "b0" oifname { "b1" } drop');
    expect(text).toContain('iifname "b1" oifname != "b1" drop');
    expect(text).toContain('tcp dport 8080 dnat ip to 10.1.0.2:80');
    expect(text).toContain('ip daddr 127.0.0.1 udp dport 5353 dnat ip to 10.1.0.3:53');
    expect(text).toContain('iifname "b1" ip daddr 10.2.0.1 udp dport 53 redirect to :40000');
    // The gateway leads to the host's loopback, on non-internal networks, after the DNS redirect.
    expect(text).toContain('iifname "b0" ip daddr 10.1.0.1 dnat ip to 127.0.0.1');
    expect(text).not.toContain('ip daddr 10.2.0.1 dnat ip to 127.0.0.1');
  });

  it('is valid nft syntax (nft --check)', async () => {
    const r = await command('nft', ['--check', '-f', '-'], renderRuleset('berth_syntax_check', state));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('etc files', () => {
  it('writes hosts with the container, its domain and --add-host', () => {
    const hosts = renderHosts({ hostname: 'web', domainname: 'example.org', addresses: ['10.1.0.2'], extraHosts: ['db:10.0.0.9', 'v6=fe80::1'] });
    expect(hosts).toContain('10.0.0.9\tdb\n');
    expect(hosts).toContain('fe80::1\tv6\n');
    expect(hosts.endsWith('10.1.0.2\tweb.example.org web\n')).toBe(true);
  });

  it('writes resolv.conf: embedded resolver, --dns, or the host\'s reachable resolvers', () => {
    const host = parseResolvConf('nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions ndots:2\n');
    expect(renderResolvConf({ host, dns: [], dnsSearch: [], dnsOptions: [] })).toBe('nameserver 10.0.0.2\nsearch corp.example\noptions ndots:2\n');
    expect(renderResolvConf({ host, dns: ['1.1.1.1'], dnsSearch: ['a.example'], dnsOptions: ['timeout:1'] })).toBe('nameserver 1.1.1.1\nsearch a.example\noptions timeout:1\n');
    expect(renderResolvConf({ host, dns: [], dnsSearch: [], dnsOptions: [], embedded: '10.2.0.1' })).toBe('nameserver 10.2.0.1\nsearch corp.example\noptions ndots:2\n');
    expect(renderResolvConf({ host: parseResolvConf('nameserver 127.0.0.1\n'), dns: [], dnsSearch: [], dnsOptions: [] })).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });
});
