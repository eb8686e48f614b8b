// Builds the networkdriver for the daemon: checks nft, opens the NetworkManager on the configured
// bridge, pools and nftables table, publishes network events, registers the jobs. Daemon.wire()
// calls openNetworks(); the container component takes `driver` and gives back container lookups.
import type { Engine } from '../../engine/engine';
import type { DaemonConfig } from '../../config';
import type { Logger } from '../../log';
import { unavailable } from '../../errors';
import { NetworkManager } from './manager';
import { registerNetworkJobs, noContainers, type ContainerRefs } from './jobs';
import type { NetworkDriver } from './network-driver';

export interface NetworkComponent {
  /** Undefined when networking could not start on this host (the reason is logged and in `error`). */
  driver?: NetworkManager;
  error?: string;
  /** The container component tells how to resolve a container reference (connect/disconnect). */
  setContainerRefs(refs: ContainerRefs): void;
  /** After the containers' live restore: which containers still run. */
  restore(running: Set<string>): Promise<void>;
  shutdown(): Promise<void>;
}

export async function openNetworks(o: { engine: Engine; config: DaemonConfig; log: Logger }): Promise<NetworkComponent> {
  let refs: ContainerRefs = noContainers;
  let driver: NetworkManager | undefined;
  let error: string | undefined;
  try {
    await NetworkManager.check();
    driver = new NetworkManager({
      dataRoot: o.config.dataRoot,
      execRoot: o.config.execRoot,
      defaultBridge: o.config.bridge,
      bip: o.config.bip || undefined,
      pools: o.config.defaultAddressPools.length > 0 ? o.config.defaultAddressPools : undefined,
      firewallTable: o.config.firewallTable,
      log: o.log,
      publish: (action, n, attributes) => o.engine.events.publish('network', action, n.Id, { name: n.Name, type: n.Driver, ...attributes }),
    });
    await driver.init();
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    o.log.error('networking is unavailable: containers can only use --network none or host', { error });
    driver = undefined;
  }
  const networks = (): NetworkManager => {
    if (!driver) throw unavailable(`networking is unavailable on this host: ${error}`);
    return driver;
  };
  registerNetworkJobs(o.engine, networks, () => refs);
  return {
    driver,
    error,
    setContainerRefs: (r) => {
      refs = r;
    },
    restore: async (running) => driver?.restore(running),
    shutdown: async () => driver?.shutdown(),
  };
}

export type { NetworkDriver };
