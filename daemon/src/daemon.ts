// The daemon: wires configuration, the Engine, its components and the API server together, and
// owns start-up, reload (SIGHUP) and shutdown (SIGTERM). main.ts only parses argv and signals.
import { mkdirSync, readFileSync, unlinkSync, existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Engine } from './engine/engine';
import { registerSystemJobs, type SystemSources } from './engine/system';
import { readHostFacts } from './engine/host-facts';
import { ApiServer } from './api/server';
import { Router } from './api/router';
import { allRoutes } from './api/routes/index';
import { listen, parseHost, tlsFor, type Listener } from './api/listeners';
import { API_VERSION, BERTH_VERSION } from './version';
import { loadConfig, RELOADABLE, type DaemonConfig } from './config';
import type { Logger } from './log';
import { Graph } from './graph/graph';
import { registerBuilderJobs } from './builder/jobs';
import { registerImageJobs, imageDiskUsage } from './graph/jobs';
import { Distribution } from './distribution/distribution';
import { DEFAULT_CERTS_DIR } from './distribution/hosts';
import { openNetworks, type NetworkComponent } from './drivers/network/component';
import { openVolumes } from './drivers/volume/component';
import type { VolumeManager } from './drivers/volume/manager';
import { openContainers } from './container/component';
import { detectRuntimes, rememberedVersions } from './drivers/exec/runtime';
import { ContainerAttachments } from './drivers/attachments';
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
      await daemon.wire();
      await daemon.serve(endpoints);
    } catch (err) {
      await daemon.shutdown(0).catch(() => undefined);
      throw err;
    }
    daemon.engine.events.publish('daemon', 'start', engineId(config.dataRoot), { name: readHostFacts().hostname });
    return daemon;
  }

  /** Registers every component's jobs. Components join here as they land. */
  private async wire(): Promise<void> {
    // The OCI runtimes' --version probes run while the graph opens (and are remembered on the data
    // root): each is a process start, a visible moment of the VM's boot under emulation.
    // openContainers awaits (and reports) them.
    const probedRuntimes = detectRuntimes(undefined, undefined, undefined, rememberedVersions(path.join(this.config.dataRoot, 'runtime-versions.json')));
    probedRuntimes.catch(() => undefined);
    const graph = await Graph.open({ dataRoot: this.config.dataRoot, storageDriver: this.config.storageDriver, events: this.engine.events, log: this.log.child({ component: 'graph' }) });
    this.graph = graph;
    registerImageJobs(this.engine, graph);
    const networks = await openNetworks({ engine: this.engine, config: this.config, log: this.log.child({ component: 'network' }) });
    const volumes = openVolumes({ engine: this.engine, dataRoot: this.config.dataRoot, log: this.log.child({ component: 'volume' }) });
    this.networks = networks;
    this.volumes = volumes;
    new Distribution(this.engine, { graph, dataRoot: this.config.dataRoot, config: () => ({ ...this.config, certsDir: process.env.BERTH_CERTS_D || DEFAULT_CERTS_DIR }) }).register();
    const { containers, runtimes } = await openContainers({ engine: this.engine, graph, runtimes: probedRuntimes, dataRoot: this.config.dataRoot, execRoot: this.config.execRoot, defaultRuntime: () => this.config.defaultRuntime, log: this.log.child({ component: 'container' }), attachments: new ContainerAttachments(networks.driver, volumes) });
    networks.setContainerRefs((ref) => containers.get(ref).id);
    const sources: SystemSources = {
      config: () => this.config,
      host: readHostFacts(),
      engineId: engineId(this.config.dataRoot),
      containerCounts: () => containers.counts(),
      imageCount: () => graph.images.list().length,
      storageDriver: () => ({ name: graph.driver.name, status: graph.driver.status() }),
      runtimes,
      diskUsage: async (types) => ({ LayersSize: 0, Images: [], Containers: types.has('container') ? await containers.diskUsage() : [], Volumes: types.has('volume') ? await volumes.usage() : [], BuildCache: [], ...(types.has('image') ? await imageDiskUsage(graph) : {}) }),
      // Containers get Docker's default seccomp profile unless they opt out (drivers/exec/seccomp.ts).
      securityOptions: () => ['name=seccomp,profile=builtin'],
    };
    registerSystemJobs(this.engine, sources);
    await registerBuilderJobs(this.engine, graph, this.config.dataRoot);
  }

  private async serve(endpoints: { endpoint: ReturnType<typeof parseHost>; tls: ReturnType<typeof tlsFor> }[]): Promise<void> {
    const api = new ApiServer(this.engine, new Router(allRoutes()), {
      server: `Berth/${BERTH_VERSION} (linux)`,
      apiVersion: API_VERSION,
      osType: 'linux',
      experimental: false,
    }, this.log.child({ component: 'api' }));
    this.engine.register('serveapi', async (job) => {
      for (const { endpoint, tls } of endpoints) {
        const listener = await listen(endpoint, api.createServer(tls), this.config.group);
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
