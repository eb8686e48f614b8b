// The main process's services, shared by every window, and a Session per window (an Electron
// BrowserWindow or a web-mode socket) that owns that window's streams and answers its requests.
import type { RequestArgs, RequestChannel, RequestResult } from '../../shared/contract.js';
import type { BridgeError } from '../../shared/api.js';
import { EngineError } from '../engine/engine-error.js';
import { validateArgs } from '../ipc/validate.js';
import { Broadcaster, type Emit } from './broadcaster.js';
import { BuildsService, type BuildHost } from './builds-service.js';
import { ContainerFiles } from './container-files.js';
import { ContainersService } from './containers-service.js';
import { EngineService } from './engine-service.js';
import { ImagesService } from './images-service.js';
import { JobsService } from './jobs-service.js';
import { LogsService } from './logs-service.js';
import { SettingsService } from './settings-service.js';
import { StatsService } from './stats-service.js';
import { TerminalsService } from './terminals-service.js';
import { NetworksService, VolumesService } from './volumes-networks-service.js';

export interface BerthServicesOptions {
  /** Where settings.json lives; undefined keeps settings in memory. */
  settingsFile?: string;
  /** Overrides the saved endpoint (web mode's --engine). */
  endpoint?: string;
}

export class BerthServices {
  readonly broadcaster = new Broadcaster();
  readonly engine: EngineService;
  readonly containers: ContainersService;
  readonly images: ImagesService;
  readonly volumes: VolumesService;
  readonly networks: NetworksService;
  readonly jobs: JobsService;
  readonly settings: SettingsService;
  readonly files: ContainerFiles;

  constructor(options: BerthServicesOptions = {}) {
    const emit = this.broadcaster.emit;
    this.settings = new SettingsService(options.settingsFile, emit, options.endpoint !== undefined ? { endpoint: options.endpoint } : {});
    this.engine = new EngineService(emit);
    this.containers = new ContainersService(this.engine, emit);
    this.images = new ImagesService(this.engine, emit);
    this.volumes = new VolumesService(this.engine, emit);
    this.networks = new NetworksService(this.engine, emit);
    this.jobs = new JobsService(this.engine, emit);
    this.files = new ContainerFiles(this.engine);
  }

  start(): void {
    this.engine.connect(this.settings.get().endpoint);
  }

  /**
   * A window's session; `emit` reaches only that window, `backedUp` reports its transport's
   * backlog, `host` is what the window's host offers (Electron's folder picker).
   */
  openSession(emit: Emit, backedUp?: () => boolean, host?: BuildHost): Session {
    return new Session(this, emit, backedUp, host);
  }

  stop(): void {
    this.jobs.stop();
    this.engine.disconnect();
  }
}

type Handlers = { [C in RequestChannel]: (...args: RequestArgs<C>) => Promise<RequestResult<C>> | RequestResult<C> };

export class Session {
  private readonly logs: LogsService;
  private readonly terminals: TerminalsService;
  private readonly stats: StatsService;
  private readonly builds: BuildsService;
  private readonly stopListening: () => void;
  private readonly handlers: Handlers;

  constructor(services: BerthServices, emit: Emit, backedUp?: () => boolean, host?: BuildHost) {
    this.logs = new LogsService(services.engine, emit, backedUp);
    this.builds = new BuildsService(services.engine, emit, host);
    this.terminals = new TerminalsService(services.engine, emit);
    this.stats = new StatsService(services.engine, emit);
    this.stopListening = services.broadcaster.listen(emit);
    const s = services;
    this.handlers = {
      'containers:list': () => s.containers.list(),
      'containers:inspect': (id) => s.containers.inspect(id),
      'containers:start': (id) => s.containers.start(id),
      'containers:stop': (id) => s.containers.stop(id),
      'containers:restart': (id) => s.containers.restart(id),
      'containers:pause': (id) => s.containers.pause(id),
      'containers:unpause': (id) => s.containers.unpause(id),
      'containers:kill': (id) => s.containers.kill(id),
      'containers:remove': (id, o) => s.containers.remove(id, o.force),
      'containers:run': (o) => s.containers.run(o),
      'containers:files': (id, dir) => s.files.list(id, dir),
      'containers:readFile': (id, file) => s.files.read(id, file),
      'images:list': () => s.images.list(),
      'images:remove': (id, o) => s.images.remove(id, o.force),
      'images:pull': (ref) => s.images.pull(ref),
      'images:tag': (source, target) => s.images.tag(source, target),
      'images:prune': (o) => s.images.prune(o.all),
      'images:detail': (ref) => s.images.detail(ref),
      'images:tree': (ref, layer, o) => s.images.tree(ref, layer, o),
      'builds:host': () => this.builds.hostInfo(),
      'builds:pickContext': () => this.builds.pickContext(),
      'builds:inspectContext': (folder) => this.builds.inspectContext(folder),
      'builds:start': (request) => this.builds.start(request),
      'builds:cancel': (id) => this.builds.cancel(id),
      'volumes:list': () => s.volumes.list(),
      'volumes:remove': (name) => s.volumes.remove(name),
      'volumes:prune': () => s.volumes.prune(),
      'networks:list': () => s.networks.list(),
      'networks:remove': (id) => s.networks.remove(id),
      'logs:open': (o) => this.logs.open(o),
      'logs:close': (id) => this.logs.close(id),
      'terminals:open': (o) => this.terminals.open(o),
      'terminals:attach': (o) => this.terminals.attach(o),
      'terminals:input': (id, data) => this.terminals.input(id, data),
      'terminals:resize': (id, cols, rows) => this.terminals.resize(id, cols, rows),
      'terminals:close': (id) => this.terminals.close(id),
      'stats:open': (id) => this.stats.open(id),
      'stats:close': (id) => this.stats.close(id),
      'jobs:list': () => s.jobs.list(),
      'jobs:cancel': (id) => s.jobs.cancel(id),
      'engine:status': () => s.engine.status(),
      'settings:get': () => s.settings.get(),
      'settings:set': async (patch) => {
        const before = s.settings.get().endpoint;
        const after = await s.settings.set(patch);
        if (after.endpoint !== before) s.engine.connect(after.endpoint);
        return after;
      },
    };
  }

  /** Validates and runs one request; failures come back as a BridgeError value to rethrow remotely. */
  async handle(channel: RequestChannel, args: unknown): Promise<unknown> {
    const valid = validateArgs(channel, args);
    const handler = this.handlers[channel] as (...a: unknown[]) => unknown;
    return handler(...(valid as unknown[]));
  }

  dispose(): void {
    this.stopListening();
    this.logs.closeAll();
    this.terminals.closeAll();
    this.stats.closeAll();
    this.builds.cancelAll();
  }
}

export function toBridgeError(err: unknown): BridgeError {
  if (err instanceof EngineError) return { status: err.status, message: err.message };
  return { status: 500, message: (err as Error)?.message ?? String(err) };
}
