// The engine's components (graph, networks, volumes, distribution, containers, builder) and the full
// route table. The daemon loads this module after its API listens (`await import('./components')`):
// it pulls in nearly all of berthd and most of Node's built-in modules, a second of a VM's boot
// under emulation, and /_ping does not need any of it.
import path from 'node:path';
import type { Engine } from './engine/engine';
import { registerSystemJobs, type SystemSources } from './engine/system';
import { readHostFacts } from './engine/host-facts';
import { Router } from './api/router';
import { allRoutes } from './api/routes/index';
import type { DaemonConfig } from './config';
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

export interface Components {
  graph: Graph;
  networks: NetworkComponent;
  volumes: VolumeManager;
  /** Every route of the API, served once the components are open. */
  router: Router;
}

/** Opens every component and registers its jobs. `config` is read again on each use (SIGHUP changes it). */
export async function openComponents(engine: Engine, config: () => DaemonConfig, engineId: string, log: Logger): Promise<Components> {
  const { dataRoot, storageDriver, execRoot } = config();
  // The OCI runtimes' --version probes run while the graph opens (and are remembered on the data
  // root): each is a process start, a visible moment of the VM's boot under emulation.
  // openContainers awaits (and reports) them.
  const probedRuntimes = detectRuntimes(undefined, undefined, undefined, rememberedVersions(path.join(dataRoot, 'runtime-versions.json')));
  probedRuntimes.catch(() => undefined);
  const graph = await Graph.open({ dataRoot, storageDriver, events: engine.events, log: log.child({ component: 'graph' }) });
  registerImageJobs(engine, graph);
  const networks = await openNetworks({ engine, config: config(), log: log.child({ component: 'network' }) });
  const volumes = openVolumes({ engine, dataRoot, log: log.child({ component: 'volume' }) });
  new Distribution(engine, { graph, dataRoot, config: () => ({ ...config(), certsDir: process.env.BERTH_CERTS_D || DEFAULT_CERTS_DIR }) }).register();
  const { containers, runtimes } = await openContainers({ engine, graph, runtimes: probedRuntimes, dataRoot, execRoot, defaultRuntime: () => config().defaultRuntime, log: log.child({ component: 'container' }), attachments: new ContainerAttachments(networks.driver, volumes) });
  networks.setContainerRefs((ref) => containers.get(ref).id);
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
  await registerBuilderJobs(engine, graph, dataRoot);
  return { graph, networks, volumes, router: new Router(allRoutes()) };
}
