// Turns Engine API objects into the small views the renderer shows (app/shared/views.ts).
import type { ContainerState, ContainerView, ImageView, NetworkView, PortView, VolumeView } from '../../shared/views.js';
import type { ContainerSummary, ImageSummary, Network, Volume } from '../engine/engine-client.js';

const states = new Set<ContainerState>(['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead']);

export function containerView(c: ContainerSummary): ContainerView {
  const labels = c.Labels ?? {};
  const state = (c.State ?? 'created') as ContainerState;
  return {
    id: c.Id ?? '',
    name: (c.Names?.[0] ?? c.Id ?? '').replace(/^\//, ''),
    image: c.Image ?? '',
    command: c.Command ?? '',
    created: c.Created ?? 0,
    state: states.has(state) ? state : 'created',
    status: c.Status ?? '',
    ports: dedupePorts((c.Ports ?? []).map((p): PortView => ({
      containerPort: p.PrivatePort, protocol: p.Type, hostIp: p.IP, hostPort: p.PublicPort,
    }))),
    project: labels['com.docker.compose.project'],
    labels,
  };
}

/**
 * Whether two views show the same thing (plain JSON values compared deeply), so an engine answer
 * that changes nothing is not sent to the windows and no row re-renders for it.
 */
export function sameView(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  // Keys whose value is undefined are as good as absent (JSON drops them on the way to the window).
  const keys = (o: object) => Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined);
  const ka = keys(a);
  if (ka.length !== keys(b).length) return false;
  return ka.every((k) => sameView((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** dockerd lists a published port once per address family (0.0.0.0 and ::); show it once. */
function dedupePorts(ports: PortView[]): PortView[] {
  const seen = new Set<string>();
  return ports.filter((p) => {
    const key = `${p.containerPort}/${p.protocol}/${p.hostPort ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  }).sort((a, b) => a.containerPort - b.containerPort);
}

export function imageView(i: ImageSummary): ImageView {
  return {
    id: i.Id,
    tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
    digests: (i.RepoDigests ?? []).filter((d) => d !== '<none>@<none>'),
    size: i.Size,
    created: i.Created,
    containers: i.Containers ?? -1,
  };
}

export function volumeView(v: Volume): VolumeView {
  return { name: v.Name, driver: v.Driver, mountpoint: v.Mountpoint, createdAt: v.CreatedAt, labels: v.Labels ?? {} };
}

export function networkView(n: Network): NetworkView {
  return {
    id: n.Id ?? '', name: n.Name ?? '', driver: n.Driver ?? '', scope: n.Scope ?? '',
    subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? '').filter(Boolean),
  };
}
