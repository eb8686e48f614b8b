import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, parseFlags, readConfigFile, resolveConfig } from './config';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function configFile(content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-config-'));
  made.push(dir);
  const file = path.join(dir, 'daemon.json');
  writeFileSync(file, content);
  return file;
}

describe('berthd configuration', () => {
  it("takes dockerd's flags, short and long, with repeated hosts", () => {
    const { values } = parseFlags(['-H', 'unix:///a.sock', '--host', 'tcp://127.0.0.1:2375', '--data-root', '/d', '-l', 'debug']);
    const config = resolveConfig(values, {}, '/etc/berth/daemon.json');
    expect(config.hosts).toEqual(['unix:///a.sock', 'tcp://127.0.0.1:2375']);
    expect(config.dataRoot).toBe('/d');
    expect(config.logLevel).toBe('debug');
  });

  it("reads daemon.json with dockerd's key names", () => {
    const file = configFile(JSON.stringify({ 'data-root': '/srv/berth', 'registry-mirrors': ['https://m.example'], 'insecure-registries': ['10.0.0.0/8'], 'log-level': 'warn', 'default-runtime': 'crun' }));
    const { config } = loadConfig(['--config-file', file]);
    expect(config).toMatchObject({ dataRoot: '/srv/berth', registryMirrors: ['https://m.example'], insecureRegistries: ['10.0.0.0/8'], logLevel: 'warn', defaultRuntime: 'crun', configFile: file });
  });

  it('refuses a setting given both as a flag and in the file, naming both values', () => {
    const file = configFile(JSON.stringify({ hosts: ['unix:///file.sock'] }));
    expect(() => loadConfig(['--config-file', file, '-H', 'unix:///flag.sock'])).toThrow(
      'the following directives are specified both as a flag and in the configuration file: hosts: (from flag: ["unix:///flag.sock"], from file: ["unix:///file.sock"])',
    );
  });

  it('refuses unknown keys, malformed JSON, wrong types and unknown flags', () => {
    expect(() => readConfigFile(configFile('{"colour": "blue"}'), true)).toThrow("the following directives don't match any configuration option: colour");
    expect(() => readConfigFile(configFile('{"hosts": '), true)).toThrow(/unable to configure the daemon with file/);
    expect(() => loadConfig(['--config-file', configFile('{"hosts": "unix:///x"}')])).toThrow('invalid value for hosts');
    expect(() => parseFlags(['--frobnicate'])).toThrow(/frobnicate/);
    expect(() => loadConfig(['--config-file', configFile('{}'), '-l', 'loud'])).toThrow('unable to parse logging level: loud');
  });

  it('needs an explicitly named config file to exist, but not the default one', () => {
    expect(() => loadConfig(['--config-file', '/nonexistent/daemon.json'])).toThrow(/unable to read configuration file/);
  });

  it('turns on TLS when --tlsverify is given', () => {
    const config = resolveConfig(parseFlags(['--tlsverify']).values, {}, 'x');
    expect(config.tls).toBe(true);
  });
});
