// berthd's configuration: dockerd's flags and /etc/berth/daemon.json with dockerd's key names where
// they overlap. A setting given both as a flag and in the file is an error, as in dockerd.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { isLogLevel, type LogLevel } from './log';

export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  configFile: string;
  logLevel: LogLevel;
  debug: boolean;
  defaultRuntime: string;
  storageDriver: string;
  registryMirrors: string[];
  insecureRegistries: string[];
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  group: string;
  tls: boolean;
  tlsverify: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  /** The default bridge's Linux name (dockerd's docker0). */
  bridge: string;
  /** The default bridge's address and prefix, e.g. 172.18.0.1/16; picked from the pools when empty. */
  bip: string;
  /** Where network subnets come from: [{ base: "172.17.0.0/12", size: 16 }]; dockerd's defaults when empty. */
  defaultAddressPools: { base: string; size: number }[];
  /** berthd's nftables table (family inet): one per berthd, so two never share rules. */
  firewallTable: string;
}

export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';

export const defaults = (): DaemonConfig => ({
  hosts: ['unix:///run/berth/berthd.sock'],
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  pidfile: '/run/berth/berthd.pid',
  configFile: DEFAULT_CONFIG_FILE,
  logLevel: 'info',
  debug: false,
  defaultRuntime: 'runc',
  storageDriver: '',
  registryMirrors: [],
  insecureRegistries: [],
  maxConcurrentDownloads: 3,
  maxConcurrentUploads: 5,
  group: 'berth',
  tls: false,
  tlsverify: false,
  bridge: 'berth0',
  bip: '',
  defaultAddressPools: [],
  firewallTable: 'berth',
});

/** daemon.json key → config field, with the kind of value it takes. */
const fileKeys: Record<string, [keyof DaemonConfig, 'string' | 'strings' | 'boolean' | 'number' | 'pools']> = {
  hosts: ['hosts', 'strings'],
  'data-root': ['dataRoot', 'string'],
  'exec-root': ['execRoot', 'string'],
  pidfile: ['pidfile', 'string'],
  'log-level': ['logLevel', 'string'],
  debug: ['debug', 'boolean'],
  'default-runtime': ['defaultRuntime', 'string'],
  'storage-driver': ['storageDriver', 'string'],
  'registry-mirrors': ['registryMirrors', 'strings'],
  'insecure-registries': ['insecureRegistries', 'strings'],
  'max-concurrent-downloads': ['maxConcurrentDownloads', 'number'],
  'max-concurrent-uploads': ['maxConcurrentUploads', 'number'],
  group: ['group', 'string'],
  tls: ['tls', 'boolean'],
  tlsverify: ['tlsverify', 'boolean'],
  tlscacert: ['tlscacert', 'string'],
  tlscert: ['tlscert', 'string'],
  tlskey: ['tlskey', 'string'],
  bridge: ['bridge', 'string'],
  bip: ['bip', 'string'],
  'default-address-pools': ['defaultAddressPools', 'pools'],
  'firewall-table': ['firewallTable', 'string'],
};

/** Settings that SIGHUP applies to a running daemon; the others need a restart, as in dockerd. */
export const RELOADABLE: (keyof DaemonConfig)[] = ['logLevel', 'debug', 'registryMirrors', 'insecureRegistries', 'maxConcurrentDownloads', 'maxConcurrentUploads', 'defaultRuntime'];

export class ConfigError extends Error {}

const flagOptions = {
  host: { type: 'string', short: 'H', multiple: true },
  'data-root': { type: 'string' },
  'exec-root': { type: 'string' },
  pidfile: { type: 'string', short: 'p' },
  'config-file': { type: 'string' },
  'log-level': { type: 'string', short: 'l' },
  debug: { type: 'boolean', short: 'D' },
  'default-runtime': { type: 'string' },
  'storage-driver': { type: 'string', short: 's' },
  'registry-mirror': { type: 'string', multiple: true },
  'insecure-registry': { type: 'string', multiple: true },
  'max-concurrent-downloads': { type: 'string' },
  'max-concurrent-uploads': { type: 'string' },
  group: { type: 'string', short: 'G' },
  tls: { type: 'boolean' },
  tlsverify: { type: 'boolean' },
  tlscacert: { type: 'string' },
  tlscert: { type: 'string' },
  tlskey: { type: 'string' },
  bridge: { type: 'string', short: 'b' },
  bip: { type: 'string' },
  'firewall-table': { type: 'string' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flag name → daemon.json key, where they differ. */
const flagToFileKey: Record<string, string> = { host: 'hosts', 'registry-mirror': 'registry-mirrors', 'insecure-registry': 'insecure-registries' };

export interface ParsedFlags {
  values: Partial<Record<string, string | boolean | string[]>>;
  help: boolean;
  version: boolean;
}

export function parseFlags(argv: string[]): ParsedFlags {
  try {
    const { values } = parseArgs({ args: argv, options: flagOptions, strict: true, allowPositionals: false });
    const { help, version, ...rest } = values;
    return { values: rest, help: help === true, version: version === true };
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

export function readConfigFile(path: string, required: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !required) return {};
    throw new ConfigError(`unable to read configuration file ${path}: ${(err as Error).message}`);
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`unable to configure the daemon with file ${path}: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`unable to configure the daemon with file ${path}: the file must hold a JSON object`);
  }
  const unknown = Object.keys(parsed).filter((k) => !(k in fileKeys));
  if (unknown.length > 0) {
    throw new ConfigError(`the following directives don't match any configuration option: ${unknown.join(', ')}`);
  }
  return parsed as Record<string, unknown>;
}

function coerce(key: string, kind: string, value: unknown): unknown {
  const bad = () => new ConfigError(`invalid value for ${key}: ${JSON.stringify(value)}`);
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') throw bad();
      return value;
    case 'strings':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw bad();
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw bad();
      return value;
    case 'pools':
      if (!Array.isArray(value) || !value.every((p: { base?: unknown; size?: unknown }) => typeof p?.base === 'string' && Number.isInteger(p?.size))) throw bad();
      return value;
    default: {
      const n = typeof value === 'string' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw bad();
      return n;
    }
  }
}

/** Flags over daemon.json over defaults; conflicts between flags and file are refused. */
export function resolveConfig(flags: ParsedFlags['values'], file: Record<string, unknown>, configFile: string): DaemonConfig {
  const config = defaults();
  config.configFile = configFile;
  const conflicts: string[] = [];
  for (const [key, value] of Object.entries(file)) {
    const [field, kind] = fileKeys[key]!;
    (config as unknown as Record<string, unknown>)[field] = coerce(key, kind, value);
  }
  for (const [flag, value] of Object.entries(flags)) {
    if (flag === 'config-file' || value === undefined) continue;
    const fileKey = flagToFileKey[flag] ?? flag;
    const entry = fileKeys[fileKey];
    if (!entry) continue;
    if (fileKey in file) {
      conflicts.push(`${fileKey}: (from flag: ${JSON.stringify(value)}, from file: ${JSON.stringify(file[fileKey])})`);
      continue;
    }
    (config as unknown as Record<string, unknown>)[entry[0]] = coerce(flag, entry[1], value);
  }
  if (conflicts.length > 0) {
    throw new ConfigError(`the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  }
  if (config.debug) config.logLevel = 'debug';
  if (!isLogLevel(config.logLevel)) throw new ConfigError(`unable to parse logging level: ${config.logLevel}`);
  if (config.tlsverify) config.tls = true;
  if (config.hosts.length === 0) config.hosts = defaults().hosts;
  return config;
}

/** The whole configuration from argv, reading the config file the flags name (or the default). */
export function loadConfig(argv: string[]): { config: DaemonConfig; help: boolean; version: boolean } {
  const parsed = parseFlags(argv);
  const explicit = typeof parsed.values['config-file'] === 'string';
  const configFile = explicit ? (parsed.values['config-file'] as string) : DEFAULT_CONFIG_FILE;
  const file = readConfigFile(configFile, explicit);
  return { config: resolveConfig(parsed.values, file, configFile), help: parsed.help, version: parsed.version };
}

export const usage = `Usage:	berthd [OPTIONS]

Berth's container engine: serves the Docker Engine API.

Options:
      --config-file string            Daemon configuration file (default "${DEFAULT_CONFIG_FILE}")
      --data-root string              Root directory of persistent state (default "/var/lib/berth")
  -b, --bridge string                 Name of the default bridge (default "berth0")
      --bip string                    Specify network bridge IP
  -D, --debug                         Enable debug mode
      --default-runtime string        Default OCI runtime for containers (default "runc")
      --exec-root string              Root directory for execution state files (default "/run/berth")
      --firewall-table string         berthd's nftables table, family inet (default "berth")
  -G, --group string                  Group for the unix socket (default "berth")
  -H, --host list                     Daemon socket(s) to connect to
      --insecure-registry list        Enable insecure registry communication
  -l, --log-level string              Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
      --max-concurrent-downloads int  Set the max concurrent downloads (default 3)
      --max-concurrent-uploads int    Set the max concurrent uploads (default 5)
  -p, --pidfile string                Path to use for daemon PID file (default "/run/berth/berthd.pid")
      --registry-mirror list          Preferred registry mirror
  -s, --storage-driver string         Storage driver to use
      --tls                           Use TLS; implied by --tlsverify
      --tlscacert string              Trust certs signed only by this CA
      --tlscert string                Path to TLS certificate file
      --tlskey string                 Path to TLS key file
      --tlsverify                     Use TLS and verify the remote
  -v, --version                       Print version information and quit
`;
