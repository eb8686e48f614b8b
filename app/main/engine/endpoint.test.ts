import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEndpoint, parseEndpoint, resolveEndpoint } from './endpoint.js';

describe('engine endpoints', () => {
  it('reads unix sockets in URL and bare-path form', () => {
    expect(parseEndpoint('unix:///run/berth/berthd.sock')).toEqual({ kind: 'unix', socketPath: '/run/berth/berthd.sock' });
    expect(parseEndpoint('/var/run/docker.sock')).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock' });
  });

  it('reads tcp endpoints with the docker default ports', () => {
    expect(parseEndpoint('tcp://10.0.0.5:2375')).toEqual({ kind: 'tcp', host: '10.0.0.5', port: 2375 });
    expect(parseEndpoint('tcp://engine.local')).toEqual({ kind: 'tcp', host: 'engine.local', port: 2375 });
    expect(parseEndpoint('tcp://[::1]:2376/')).toMatchObject({ kind: 'tcp', host: '::1', port: 2376 });
  });

  it('turns on TLS with DOCKER_TLS_VERIFY and loads the certificates from DOCKER_CERT_PATH', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-certs-'));
    try {
      writeFileSync(path.join(dir, 'ca.pem'), 'CA');
      writeFileSync(path.join(dir, 'cert.pem'), 'CERT');
      writeFileSync(path.join(dir, 'key.pem'), 'KEY');
      const e = parseEndpoint('tcp://engine.local', { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
      expect(e).toMatchObject({ kind: 'tcp', port: 2376, tls: { verify: true } });
      if (e.kind !== 'tcp' || !e.tls) throw new Error('expected TLS');
      expect(String(e.tls.ca)).toBe('CA');
      expect(String(e.tls.key)).toBe('KEY');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prefers the configured endpoint, then DOCKER_HOST, then the default socket', () => {
    expect(resolveEndpoint('unix:///a.sock', { DOCKER_HOST: 'unix:///b.sock' })).toEqual({ kind: 'unix', socketPath: '/a.sock' });
    expect(resolveEndpoint('', { DOCKER_HOST: 'unix:///b.sock' })).toEqual({ kind: 'unix', socketPath: '/b.sock' });
    expect(resolveEndpoint(undefined, {})).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock' });
  });

  it('refuses what it cannot reach with a 400 that says what to write instead', () => {
    expect(() => parseEndpoint('ssh://me@host')).toThrow(/ssh endpoints are not supported yet/);
    expect(() => parseEndpoint('ftp://x')).toThrow(/unsupported scheme "ftp"/);
    expect(() => parseEndpoint('localhost:2375')).toThrow(/expected unix:\/\/\/path or tcp:\/\/host:port/);
    try {
      parseEndpoint('unix://relative.sock');
    } catch (err) {
      expect((err as { status: number }).status).toBe(400);
    }
  });

  it('names endpoints in DOCKER_HOST form', () => {
    expect(describeEndpoint(parseEndpoint('/x.sock'))).toBe('unix:///x.sock');
    expect(describeEndpoint(parseEndpoint('tcp://[::1]:1'))).toBe('tcp://[::1]:1');
  });
});
