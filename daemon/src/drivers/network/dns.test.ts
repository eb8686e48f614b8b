import { describe, expect, it } from 'vitest';
import * as packet from 'dns-packet';
import { DnsServer, parseUpstream } from './dns';

const query = (name: string, type: 'A' | 'AAAA' = 'A') => packet.encode({ id: 7, type: 'query', flags: packet.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });

describe('embedded DNS', () => {
  const server = new DnsServer((name) => (name === 'web' ? ['10.1.0.2', '10.1.0.3'] : undefined), () => []);

  it('answers the names of its network, case-insensitively, with every address', async () => {
    const reply = packet.decode((await server.answer(query('WEB.')))!);
    expect(reply.id).toBe(7);
    expect(reply.answers!.map((a) => (a as { data: string }).data)).toEqual(['10.1.0.2', '10.1.0.3']);
  });

  it('says a local name has no AAAA record rather than that it does not exist', async () => {
    const reply = packet.decode((await server.answer(query('web', 'AAAA')))!);
    expect(reply.flags! & 0xf).toBe(0); // NOERROR
    expect(reply.answers).toEqual([]);
  });

  it('fails other names when no upstream answers, and ignores garbage', async () => {
    expect(packet.decode((await server.answer(query('example.org')))!).flags! & 0xf).toBe(2); // SERVFAIL
    expect(await server.answer(Buffer.from('not dns'))).toBeUndefined();
  });

  it('reads upstreams with an optional port', () => {
    expect(parseUpstream('10.0.0.2')).toEqual({ host: '10.0.0.2', port: 53 });
    expect(parseUpstream('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
  });
});
