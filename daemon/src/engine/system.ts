// The system jobs: version, info and disk usage. What they report about containers, images,
// storage and runtimes comes from the components through SystemSources, so this file knows no
// component's internals.
import type { Engine } from './engine';
import type { DaemonConfig } from '../config';
import { goArch, type HostFacts } from './host-facts';
import { API_VERSION, BERTH_VERSION, MIN_API_VERSION } from '../version';

export interface ContainerCounts {
  total: number;
  running: number;
  paused: number;
  stopped: number;
}

export interface RuntimeInfo {
  /** Runtimes usable on this host, by name. */
  runtimes: Record<string, { path: string; status?: Record<string, string> }>;
  defaultRuntime: string;
  /** Why the configured runtime was not taken, when it was not (crun on hybrid cgroups). */
  warnings: string[];
}

export interface DiskUsage {
  LayersSize: number;
  Images: unknown[];
  Containers: unknown[];
  Volumes: unknown[];
  BuildCache: unknown[];
}

/** What each component contributes to the system jobs; main.ts wires these as components land. */
export interface SystemSources {
  config(): DaemonConfig;
  host: HostFacts;
  engineId: string;
  containerCounts(): ContainerCounts;
  imageCount(): number;
  storageDriver(): { name: string; status: [string, string][] };
  runtimes(): RuntimeInfo;
  diskUsage(types: Set<string>): Promise<DiskUsage>;
  securityOptions(): string[];
}

declare module './engine' {
  interface JobTable {
    'system.version': { args: void; result: Record<string, unknown> };
    'system.info': { args: void; result: Record<string, unknown> };
    'system.df': { args: { types: Set<string> }; result: DiskUsage };
  }
}

export function registerSystemJobs(engine: Engine, sources: SystemSources): void {
  engine.register('system.version', async () => {
    const { host } = sources;
    const details = {
      ApiVersion: API_VERSION,
      Arch: goArch(),
      BuildTime: new Date(0).toISOString(),
      Experimental: 'false',
      GitCommit: 'berth',
      GoVersion: `node ${process.version}`,
      KernelVersion: host.kernelVersion,
      MinAPIVersion: MIN_API_VERSION,
      Os: 'linux',
    };
    const runtime = sources.runtimes();
    const components: Record<string, unknown>[] = [{ Name: 'Engine', Version: BERTH_VERSION, Details: details }];
    const chosen = runtime.runtimes[runtime.defaultRuntime];
    if (chosen) components.push({ Name: runtime.defaultRuntime, Version: chosen.status?.version ?? '', Details: { GitCommit: chosen.status?.commit ?? '' } });
    return {
      Platform: { Name: 'Berth Engine' },
      Components: components,
      Version: BERTH_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: 'berth',
      GoVersion: `node ${process.version}`,
      Os: 'linux',
      Arch: goArch(),
      KernelVersion: host.kernelVersion,
      BuildTime: new Date(0).toISOString(),
    };
  });

  engine.register('system.info', async () => {
    const config = sources.config();
    const { host } = sources;
    const counts = sources.containerCounts();
    const storage = sources.storageDriver();
    const runtime = sources.runtimes();
    return {
      ID: sources.engineId,
      Containers: counts.total,
      ContainersRunning: counts.running,
      ContainersPaused: counts.paused,
      ContainersStopped: counts.stopped,
      Images: sources.imageCount(),
      Driver: storage.name,
      DriverStatus: storage.status,
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['local'] },
      MemoryLimit: true,
      SwapLimit: host.cgroupVersion === '2',
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      OomKillDisable: host.cgroupVersion === '1',
      IPv4Forwarding: host.ipv4Forwarding,
      Debug: config.logLevel === 'debug',
      NFd: 0,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'local',
      CgroupDriver: host.cgroupDriver,
      CgroupVersion: host.cgroupVersion,
      NEventsListener: 0,
      KernelVersion: host.kernelVersion,
      OperatingSystem: host.operatingSystem,
      OSVersion: host.osVersion,
      OSType: 'linux',
      Architecture: host.architecture,
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: registryConfig(config),
      NCPU: host.ncpu,
      MemTotal: host.memTotal,
      GenericResources: null,
      DockerRootDir: config.dataRoot,
      HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
      HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
      NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
      Name: host.hostname,
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: BERTH_VERSION,
      Runtimes: Object.fromEntries(Object.entries(runtime.runtimes).map(([name, r]) => [name, { path: r.path, status: r.status ?? {} }])),
      DefaultRuntime: runtime.defaultRuntime,
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: runtime.runtimes[runtime.defaultRuntime]?.status?.commit ?? '' },
      InitCommit: { ID: '' },
      SecurityOptions: sources.securityOptions(),
      CDISpecDirs: [],
      Warnings: runtime.warnings.length > 0 ? runtime.warnings : null,
    };
  });

  engine.register('system.df', async (job) => sources.diskUsage(job.args.types));
}

function registryConfig(config: DaemonConfig): Record<string, unknown> {
  // Loopback registries are insecure by default, as in dockerd.
  const cidrs = ['127.0.0.0/8', '::1/128', ...config.insecureRegistries.filter((r) => r.includes('/'))];
  const indexConfigs: Record<string, unknown> = {
    'docker.io': { Name: 'docker.io', Mirrors: config.registryMirrors, Secure: true, Official: true },
  };
  for (const name of config.insecureRegistries.filter((r) => !r.includes('/'))) {
    indexConfigs[name] = { Name: name, Mirrors: [], Secure: false, Official: false };
  }
  return { AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null, InsecureRegistryCIDRs: cidrs, IndexConfigs: indexConfigs, Mirrors: config.registryMirrors };
}
