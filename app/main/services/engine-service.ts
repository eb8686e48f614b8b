// Owns the connection to the engine: the client for the configured endpoint, the /events stream
// (with reconnect), and the engine status shown in the app. Other services subscribe to its
// `connected` and `event` notifications instead of polling.
import type { EngineStatus } from '../../shared/views.js';
import { EngineClient, type EventMessage } from '../engine/engine-client.js';
import { EventsWatcher } from '../engine/events-watcher.js';
import { describeEndpoint, resolveEndpoint } from '../engine/endpoint.js';
import { EngineError } from '../engine/engine-error.js';
import type { Emit } from './broadcaster.js';

export interface EngineListener {
  /** Another engine was chosen: what was known about the old one no longer holds. */
  reset?(): void;
  /** The engine is (again) reachable: resynchronise everything. */
  connected?(client: EngineClient): void;
  event?(event: EventMessage, client: EngineClient): void;
}

export class EngineService {
  private current?: { client: EngineClient; watcher: EventsWatcher };
  private readonly listeners = new Set<EngineListener>();
  private state: EngineStatus = { connection: 'connecting', endpoint: '', jobs: false };
  /**
   * Told of every event as it arrives from the engine, before any service handles it, with the
   * time it arrived (performance.timeOrigin + performance.now(), ms); `berth web` sets it under
   * BERTH_TRACE_EVENTS so the bench can time an event from its arrival to the row in the window.
   */
  traceEvent?: (event: EventMessage, receivedAt: number) => void;

  constructor(private readonly emit: Emit) {}

  /** (Re)connects to an endpoint (empty: DOCKER_HOST, then the default socket). */
  connect(endpoint: string): void {
    this.disconnect();
    for (const l of this.listeners) l.reset?.();
    let client: EngineClient;
    try {
      client = new EngineClient(resolveEndpoint(endpoint));
    } catch (err) {
      this.setStatus({ connection: 'disconnected', endpoint, jobs: false, error: (err as Error).message });
      return;
    }
    this.setStatus({ connection: 'connecting', endpoint: describeEndpoint(client.transport.endpoint), jobs: false });
    const watcher = new EventsWatcher(client, {
      onConnected: () => void this.onConnected(client),
      onEvent: (event) => {
        const receivedAt = this.traceEvent ? performance.timeOrigin + performance.now() : 0;
        for (const l of this.listeners) l.event?.(event, client);
        if (event.Type === 'container' || event.Type === 'image') this.refreshCountsSoon(client);
        // Reported after the listeners ran, so writing the trace does not delay them.
        this.traceEvent?.(event, receivedAt);
      },
      onDisconnected: (error) => {
        // The engine may have restarted with another version: negotiate again next time.
        client.transport.reset();
        this.setStatus({ ...this.state, connection: 'disconnected', error: error.message });
      },
    });
    this.current = { client, watcher };
    watcher.start();
  }

  disconnect(): void {
    this.current?.watcher.stop();
    this.current?.client.close();
    this.current = undefined;
  }

  /** The client, or a 503 a person understands when the engine is not reachable. */
  client(): EngineClient {
    if (!this.current) throw new EngineError(503, `Cannot connect to the engine at ${this.state.endpoint || 'the configured endpoint'}: ${this.state.error ?? 'not connected'}`);
    return this.current.client;
  }

  status(): EngineStatus {
    return this.state;
  }

  subscribe(listener: EngineListener): () => void {
    this.listeners.add(listener);
    if (this.current && this.state.connection === 'connected') listener.connected?.(this.current.client);
    return () => this.listeners.delete(listener);
  }

  private async onConnected(client: EngineClient): Promise<void> {
    try {
      const ping = await client.ping();
      const [version, jobs] = await Promise.all([client.version(), client.listJobs().then(() => true, () => false)]);
      if (this.current?.client !== client) return;
      const berthd = jobs || /berth/i.test(ping.server ?? '');
      this.setStatus({
        connection: 'connected',
        endpoint: client.endpointName,
        apiVersion: ping.apiVersion,
        // The Server header names the product ("Docker/20.10.24 (linux)"); the version's Components do not.
        engineName: berthd ? 'berthd' : (ping.server?.split('/')[0] || version.Components?.[0]?.Name || 'Engine'),
        engineVersion: version.Version,
        os: version.Os,
        arch: version.Arch,
        jobs,
      });
      for (const l of this.listeners) l.connected?.(client);
      await this.refreshCounts(client);
    } catch (err) {
      this.setStatus({ ...this.state, connection: 'disconnected', error: (err as Error).message });
    }
  }

  private countsTimer?: ReturnType<typeof setTimeout>;
  private refreshCountsSoon(client: EngineClient): void {
    if (this.countsTimer) return;
    this.countsTimer = setTimeout(() => {
      this.countsTimer = undefined;
      void this.refreshCounts(client);
    }, 250);
  }

  private async refreshCounts(client: EngineClient): Promise<void> {
    try {
      const info = await client.info();
      if (this.current?.client !== client) return;
      this.setStatus({
        ...this.state,
        containers: { total: info.Containers ?? 0, running: info.ContainersRunning ?? 0, paused: info.ContainersPaused ?? 0, stopped: info.ContainersStopped ?? 0 },
        images: info.Images,
      });
    } catch {
      // counts are decoration; the connection state is reported by the events stream
    }
  }

  private setStatus(status: EngineStatus): void {
    this.state = status;
    this.emit('engine:status', status);
  }
}
