// Builds the container component for the daemon: detects the OCI runtimes, opens the execdriver
// over berth-shim, loads the store, registers the jobs, and re-adopts what survived the last
// berthd. Daemon.wire() calls openContainers() and nothing else of this folder.
import path from 'node:path';
import type { Engine } from '../engine/engine';
import type { Logger } from '../log';
import type { Graph } from '../graph/graph';
import { detectRuntimes, runtimeInfo, type OciRuntime } from '../drivers/exec/runtime';
import { ShimDriver } from '../drivers/exec/shim-driver';
import { Containers } from './containers';
import { Execs } from './exec';
import { registerContainerJobs } from './jobs';
import { specHost, hostLimits } from './host';
import type { RuntimeInfo } from '../engine/system';
import type { ContainerAttachments } from '../drivers/attachments';
import type { ImageRuntimeConfig } from './types';

export interface ContainerComponent {
  containers: Containers;
  runtimes(): RuntimeInfo;
}

export async function openContainers(o: { engine: Engine; graph: Graph; dataRoot: string; execRoot: string; defaultRuntime: () => string; log: Logger; attachments?: ContainerAttachments; runtimes?: Promise<OciRuntime[]> }): Promise<ContainerComponent> {
  // The daemon may have started the runtime probes already (see Daemon.wire).
  const runtimes = await (o.runtimes ?? detectRuntimes());
  // BERTH_EXEC=runtime sends every exec through `runtime exec` (to compare the two paths).
  const exec = new ShimDriver({ stateRoot: o.execRoot, runtimes, defaultRuntime: o.defaultRuntime(), nativeExec: process.env.BERTH_EXEC !== 'runtime' });
  const host = specHost();
  const graph = o.graph;
  const containers = new Containers({
    root: path.join(o.dataRoot, 'containers'),
    events: o.engine.events,
    graph: graph.driver,
    exec,
    specHost: host,
    limits: hostLimits(host),
    defaultRuntime: () => runtimeInfo(runtimes, o.defaultRuntime()).defaultRuntime,
    log: o.log,
    attachments: o.attachments,
    images: {
      async resolve(ref) {
        const { record } = graph.resolve(ref);
        const config = await graph.images.config(record.id);
        return { id: record.id, config: (config.config ?? {}) as ImageRuntimeConfig, topLayer: record.chainId ? record.chainId.replace(/^sha256:/, '') : undefined };
      },
      size(id) {
        const record = graph.images.get(id);
        return record ? graph.size(record) : 0;
      },
    },
  });
  const execs = new Execs(containers);
  const imageIds = (ref: string): string[] => {
    try {
      return [graph.resolve(ref).record.id];
    } catch {
      return [];
    }
  };
  registerContainerJobs(o.engine, containers, execs, imageIds);
  // Images in use by containers cannot be removed without force.
  graph.users = {
    containersUsing: (imageId) => containers.store.list().filter((c) => c.record.Image === imageId).map((c) => ({ id: c.id, running: c.state.Running })),
  };
  await containers.restore();
  return { containers, runtimes: () => runtimeInfo(runtimes, o.defaultRuntime()) };
}
