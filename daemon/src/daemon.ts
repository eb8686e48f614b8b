// The daemon: wires configuration, the Engine, its components and the API server together, and
// owns start-up, reload (SIGHUP) and shutdown (SIGTERM). main.ts only parses argv and signals.
import { mkdirSync, readFileSync, unlinkSync, existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Engine } from './engine/engine';
import { readHostFacts } from './engine/host-facts';
import { ApiServer } from './api/server';
import { Router } from './api/router';
import { pingRoutes } from './api/routes/system';
import { listen, parseHost, tlsFor, type Listener } from './api/listeners';
import { API_VERSION, BERTH_VERSION } from './version';
import { loadConfig, RELOADABLE, type DaemonConfig } from './config';
import type { Logger } from './log';
import type { Components } from './components';
import type { Graph } from './graph/graph';
import type { NetworkComponent } from './drivers/network/component';
import type { VolumeManager } from './drivers/volume/manager';
import { writeFileAtomicSync } from './atomic-file';

declare module './engine/engine' {
  interface JobTable {
    serveapi: { args: { hosts: string[] }; result: void };
  }
}


function claimPidfile(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    let alive = false;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch {
        alive = false;
      }
    }
    if (alive) throw new Error(`pid file found, ensure berthd is not running or delete ${file} (pid ${pid} is alive)`);
  }
  writeFileAtomicSync(file, `${process.pid}\n`, { mode: 0o644 });
}

function engineId(dataRoot: string): string {
  const file = path.join(dataRoot, 'engine-id');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const id = randomUUID();
    writeFileAtomicSync(file, id + '\n', { mode: 0o644 });
    return id;
  }
}

export class Daemon {
  readonly engine: Engine;
  /** The image store; the container component asks it for rootfs layers and fills `graph.users`. */
  graph!: Graph;
  private listeners: Listener[] = [];
  /** The networkdriver and volumedriver; the container component takes their `driver`s. */
  networks?: NetworkComponent;
  volumes?: VolumeManager;
  private serveJob?: Promise<unknown>;
  private stopServing?: () => void;

  private constructor(private config: DaemonConfig, readonly log: Logger) {
    this.engine = new Engine(log);
  }

  get currentConfig(): DaemonConfig {
    return this.config;
  }

  get addresses(): string[] {
    return this.listeners.map((l) => l.address);
  }

  static async start(config: DaemonConfig, log: Logger): Promise<Daemon> {
    log.setLevel(config.logLevel);
    // Validate every host (and TLS) before touching anything on disk.
    const endpoints = config.hosts.map((h) => {
      const endpoint = parseHost(h);
      return { endpoint, tls: tlsFor(endpoint, config) };
    });
    mkdirSync(config.dataRoot, { recursive: true, mode: 0o711 });
    mkdirSync(config.execRoot, { recursive: true, mode: 0o700 });
    claimPidfile(config.pidfile);
    const daemon = new Daemon(config, log);
    try {
      // The API listens first and answers /_ping at once; every other request waits for the
      // components, whose code loads once the sockets listen (a VM's boot is judged by its first
      // /_ping, and under emulation loading and opening them takes a second or more). A failed
      // start ends berthd.
      let listening!: () => void;
      const components = new Promise<void>((resolve) => (listening = resolve)).then(() => daemon.openComponents());
      await daemon.serve(endpoints, components.then((c) => c.router));
      listening();
      await components;
    } catch (err) {
      await daemon.shutdown(0).catch(() => undefined);
      throw err;
    }
    daemon.engine.events.publish('daemon', 'start', engineId(config.dataRoot), { name: readHostFacts().hostname });
    return daemon;
  }

  /**
   * Loads the components' code and opens them; their jobs join the engine's table as they open, and
   * each lands in this daemon's fields at once (shutdown closes what opened, even if start fails).
   */
  private async openComponents(): Promise<Components> {
    const { openComponents } = await import('./components');
    return openComponents(this.engine, () => this.config, engineId(this.config.dataRoot), this.log, this);
  }

  /** Listens on every endpoint with the ping routes; `routes` is the full table, once it is ready. */
  private async serve(endpoints: { endpoint: ReturnType<typeof parseHost>; tls: ReturnType<typeof tlsFor> }[], routes: Promise<Router>): Promise<void> {
    const api = new ApiServer(this.engine, new Router(pingRoutes), {
      server: `Berth/${BERTH_VERSION} (linux)`,
      apiVersion: API_VERSION,
      osType: 'linux',
      experimental: false,
    }, this.log.child({ component: 'api' }), routes);
    this.engine.register('serveapi', async (job) => {
      for (const { endpoint, tls } of endpoints) {
        const listener = await listen(endpoint, tls ? await api.createTlsServer(tls) : api.createServer(), this.config.group);
        this.listeners.push(listener);
        this.log.info('API listen on ' + listener.address);
      }
      job.setProgress({ message: `serving ${this.addresses.join(', ')}` });
      await new Promise<void>((resolve) => {
        this.stopServing = resolve;
      });
    });
    const job = this.engine.job('serveapi', { hosts: this.config.hosts }, { description: this.config.hosts.join(' '), cancellable: false });
    this.serveJob = this.engine.execute(job);
    // Start-up succeeds once every listener is up, or fails with the first listener's error.
    await Promise.race([
      this.serveJob,
      new Promise<void>((resolve) => {
        const check = () => (this.listeners.length === endpoints.length ? resolve() : setTimeout(check, 5));
        check();
      }),
    ]);
  }

  /** SIGHUP: re-reads the configuration file and applies what can change while running. */
  reload(argv: string[]): void {
    const { config: next } = loadConfig(argv);
    const changed: string[] = [];
    for (const key of RELOADABLE) {
      if (JSON.stringify(next[key]) !== JSON.stringify(this.config[key])) changed.push(key);
    }
    this.config = { ...this.config, ...Object.fromEntries(RELOADABLE.map((k) => [k, next[k]])) };
    this.log.setLevel(this.config.logLevel);
    this.log.info('configuration reloaded', { changed: changed.join(',') || 'nothing' });
    this.engine.events.publish('daemon', 'reload', engineId(this.config.dataRoot), { name: readHostFacts().hostname });
  }

  /** SIGTERM: stop accepting connections, let running jobs finish (up to `graceMs`), then close. */
  async shutdown(graceMs = 15_000): Promise<void> {
    this.log.info('shutting down');
    for (const l of this.listeners) l.server.close();
    await this.engine.drain(graceMs, ['serveapi']);
    for (const l of this.listeners) l.server.closeAllConnections();
    this.stopServing?.();
    await this.serveJob?.catch(() => undefined);
    await this.networks?.shutdown().catch((err: unknown) => this.log.warn('network shutdown', { error: err }));
    await this.volumes?.shutdown().catch((err: unknown) => this.log.warn('volume shutdown', { error: err }));
    for (const l of this.listeners) {
      if (l.address.startsWith('unix://')) {
        try {
          unlinkSync(l.address.slice('unix://'.length));
        } catch {
          // Already gone.
        }
      }
    }
    try {
      if (readFileSync(this.config.pidfile, 'utf8').trim() === String(process.pid)) unlinkSync(this.config.pidfile);
    } catch {
      // No pid file: nothing to remove.
    }
  }
}
