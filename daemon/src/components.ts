// The engine's components (graph, networks, volumes, distribution, containers, builder) and the full
// route table. The daemon opens them after its API listens: their code pulls in nearly all of berthd
// and most of Node's built-in modules, a second of a VM's boot under emulation, and /_ping needs
// none of it. Each component's code is loaded on its own (import()) with a turn of the event loop
// before it, so requests that arrive meanwhile (a health check's /_ping) wait for one component's
// code at most, not for all of it.
// Node built-ins that only some requests need (zlib, https and tls, dgram, dns, worker_threads) are
// taken with process.getBuiltinModule() where they are used, not imported: each is compiled when
// first loaded, tens of milliseconds apiece of the engine's start under emulation.
import path from 'node:path';
import type { Engine } from './engine/engine';
import { Router } from './api/router';
import { readHostFacts } from './engine/host-facts';
import type { DaemonConfig } from './config';
import type { Logger } from './log';
import type { Graph } from './graph/graph';
import type { NetworkComponent } from './drivers/network/component';
import type { VolumeManager } from './drivers/volume/manager';
import type { SystemSources } from './engine/system';

/** Lets the event loop answer what has arrived (setImmediate runs after pending I/O callbacks). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface Components {
  graph: Graph;
  networks: NetworkComponent;
  volumes: VolumeManager;
  /** Every route of the API, served once the components are open. */
  router: Router;
}

/**
 * Opens every component and registers its jobs. `config` is read again on each use (SIGHUP changes
 * it). `opened` gets each component as it opens, so a start that fails later shuts down those.
 */
export async function openComponents(engine: Engine, config: () => DaemonConfig, engineId: string, log: Logger, opened: Partial<Components>): Promise<Components> {
  const { dataRoot, storageDriver, execRoot } = config();
  await turn();
  const { detectRuntimes, rememberedVersions } = await import('./drivers/exec/runtime');
  // The OCI runtimes' --version probes run while the graph opens (and are remembered on the data
  // root): each is a process start, a visible moment of the VM's boot under emulation.
  // openContainers awaits (and reports) them.
  const probedRuntimes = detectRuntimes(undefined, undefined, undefined, rememberedVersions(path.join(dataRoot, 'runtime-versions.json')));
  probedRuntimes.catch(() => undefined);
  await turn();
  const { Graph } = await import('./graph/graph');
  const { registerImageJobs, imageDiskUsage } = await import('./graph/jobs');
  const graph = await Graph.open({ dataRoot, storageDriver, events: engine.events, log: log.child({ component: 'graph' }) });
  opened.graph = graph;
  registerImageJobs(engine, graph);
  await turn();
  const { openNetworks } = await import('./drivers/network/component');
  const networks = await openNetworks({ engine, config: config(), log: log.child({ component: 'network' }) });
  opened.networks = networks;
  await turn();
  const { openVolumes } = await import('./drivers/volume/component');
  const volumes = openVolumes({ engine, dataRoot, log: log.child({ component: 'volume' }) });
  opened.volumes = volumes;
  await turn();
  const { Distribution } = await import('./distribution/distribution');
  const { DEFAULT_CERTS_DIR } = await import('./distribution/hosts');
  new Distribution(engine, { graph, dataRoot, config: () => ({ ...config(), certsDir: process.env.BERTH_CERTS_D || DEFAULT_CERTS_DIR }) }).register();
  await turn();
  const { openContainers } = await import('./container/component');
  const { ContainerAttachments } = await import('./drivers/attachments');
  const { containers, runtimes } = await openContainers({ engine, graph, runtimes: probedRuntimes, dataRoot, execRoot, defaultRuntime: () => config().defaultRuntime, log: log.child({ component: 'container' }), attachments: new ContainerAttachments(networks.driver, volumes) });
  networks.setContainerRefs((ref) => containers.get(ref).id);
  const { registerSystemJobs } = await import('./engine/system');
  const sources: SystemSources = {
    config,
    host: readHostFacts(),
    engineId,
    containerCounts: () => containers.counts(),
    imageCount: () => graph.images.list().length,
    storageDriver: () => ({ name: graph.driver.name, status: graph.driver.status() }),
    runtimes,
    diskUsage: async (types) => ({ LayersSize: 0, Images: [], Containers: types.has('container') ? await containers.diskUsage() : [], Volumes: types.has('volume') ? await volumes.usage() : [], BuildCache: [], ...(types.has('image') ? await imageDiskUsage(graph) : {}) }),
    // Containers get Docker's default seccomp profile unless they opt out (drivers/exec/seccomp.ts).
    securityOptions: () => ['name=seccomp,profile=builtin'],
  };
  registerSystemJobs(engine, sources);
  await turn();
  const { registerBuilderJobs } = await import('./builder/jobs');
  await registerBuilderJobs(engine, graph, dataRoot);
  await turn();
  const { allRoutes } = await import('./api/routes/index');
  return { graph, networks, volumes, router: new Router(allRoutes()) };
}
