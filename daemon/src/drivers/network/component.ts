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
  /** Settles when the bridges and the firewall are up (or networking failed: see `error`). */
  ready: Promise<void>;
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
  let ready: Promise<void> = Promise.resolve();
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
    // Not awaited: the bridges and the firewall come up while the API is already served (the
    // driver queues every operation behind them; a failure makes each one refuse with the reason).
    ready = driver.init().catch((err: unknown) => {
      error = err instanceof Error ? err.message : String(err);
      o.log.error('networking is unavailable: the bridges and the firewall could not be set up', { error });
      driver = undefined;
    });
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    o.log.error('networking is unavailable: containers can only use --network none or host', { error });
    driver = undefined;
  }
  const networks = (): NetworkManager => {
    if (!driver) throw unavailable(`networking is unavailable on this host: ${error}`);
    return driver;
  };
  // The network jobs answer once the bring-up is done (on a first start it creates the default
  // bridge's record).
  const afterBringUp: Pick<Engine, 'register'> = {
    register: (name, handler) => o.engine.register(name, async (job) => {
      await ready;
      return handler(job);
    }),
  };
  registerNetworkJobs(afterBringUp, networks, () => refs);
  return {
    driver,
    get error() {
      return error;
    },
    ready,
    setContainerRefs: (r) => {
      refs = r;
    },
    restore: async (running) => driver?.restore(running),
    shutdown: async () => driver?.shutdown(),
  };
}

export type { NetworkDriver };
