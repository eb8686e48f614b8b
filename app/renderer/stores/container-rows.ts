// Pure shaping of the container list for display: filtering, grouping by compose project, and
// flattening into the rows the virtual list draws. Kept apart from React so it is unit-tested.
import type { ContainerView } from '../../shared/views.js';

export type ContainerRow =
  | { kind: 'group'; key: string; project: string; total: number; running: number }
  | { kind: 'container'; key: string; container: ContainerView };

export function matches(c: ContainerView, filter: string): boolean {
  const f = filter.trim().toLowerCase();
  if (!f) return true;
  return [c.name, c.image, c.id.slice(0, 12), c.state, c.project ?? '', ...c.ports.map((p) => String(p.hostPort ?? p.containerPort))]
    .some((s) => s.toLowerCase().includes(f));
}

/**
 * Standalone containers first (newest first, as the engine lists them), then one group per compose
 * project (alphabetical), each with its containers unless the group is collapsed.
 */
export function containerRows(containers: ContainerView[], filter: string, collapsed: ReadonlySet<string> = new Set()): ContainerRow[] {
  const rows: ContainerRow[] = [];
  const projects = new Map<string, ContainerView[]>();
  for (const c of containers) {
    if (!matches(c, filter)) continue;
    if (c.project) {
      const list = projects.get(c.project) ?? [];
      list.push(c);
      projects.set(c.project, list);
    } else {
      rows.push({ kind: 'container', key: c.id, container: c });
    }
  }
  for (const project of [...projects.keys()].sort()) {
    const list = projects.get(project)!;
    rows.push({ kind: 'group', key: `group:${project}`, project, total: list.length, running: list.filter((c) => c.state === 'running').length });
    if (!collapsed.has(project)) for (const c of list) rows.push({ kind: 'container', key: c.id, container: c });
  }
  return rows;
}

export function portLabel(p: { hostIp?: string; hostPort?: number; containerPort: number; protocol: string }): string {
  return p.hostPort ? `${p.hostPort}→${p.containerPort}${p.protocol === 'tcp' ? '' : `/${p.protocol}`}` : `${p.containerPort}/${p.protocol}`;
}

/** The URL a published TCP port opens in the browser. */
export function portUrl(p: { hostIp?: string; hostPort?: number; protocol: string }): string | undefined {
  if (!p.hostPort || p.protocol !== 'tcp') return undefined;
  const host = !p.hostIp || p.hostIp === '0.0.0.0' || p.hostIp === '::' ? 'localhost' : p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp;
  return `http://${host}:${p.hostPort}`;
}
