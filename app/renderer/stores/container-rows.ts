// Pure shaping of the container list for display: filtering, grouping by compose project, and
// flattening into the rows the virtual list draws. Kept apart from React so it is unit-tested.
import type { ContainerView } from '../../shared/views.js';

export type ContainerRow =
  | { kind: 'group'; key: string; project: string; total: number; running: number }
  | { kind: 'container'; key: string; container: ContainerView };

/**
 * What a filter is matched against, lower-cased once per row object: rows are replaced, never
 * changed, so an update recomputes only the row it brings while the filter runs over them all.
 */
const haystacks = new WeakMap<ContainerView, string>();

function haystack(c: ContainerView): string {
  let text = haystacks.get(c);
  if (text === undefined) {
    // NUL never occurs in a filter typed in a search box, so no match spans two fields.
    text = [c.name, c.image, c.id.slice(0, 12), c.state, c.project ?? '', ...c.ports.map((p) => String(p.hostPort ?? p.containerPort))]
      .join('\0').toLowerCase();
    haystacks.set(c, text);
  }
  return text;
}

/** Whether a row matches a filter: a case-insensitive substring of one of the fields shown. */
export function matches(c: ContainerView, filter: string): boolean {
  return matchesLowered(c, filter.trim().toLowerCase());
}

function matchesLowered(c: ContainerView, f: string): boolean {
  return !f || haystack(c).includes(f);
}

/**
 * Standalone containers first (newest first, as the engine lists them), then one group per compose
 * project (alphabetical), each with its containers unless the group is collapsed.
 */
export function containerRows(containers: ContainerView[], filter: string, collapsed: ReadonlySet<string> = new Set()): ContainerRow[] {
  const rows: ContainerRow[] = [];
  const projects = new Map<string, ContainerView[]>();
  const f = filter.trim().toLowerCase();
  for (const c of containers) {
    if (!matchesLowered(c, f)) continue;
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

/** "Up 5 minutes", "Exited (137) 2 hours ago", kept current from inspect's times; the engine's line otherwise. */
export function statusLine(c: ContainerView, now: number): string {
  if ((c.state === 'running' || c.state === 'paused') && c.startedAt) {
    return `Up ${duration(now - Date.parse(c.startedAt))}${c.state === 'paused' ? ' (Paused)' : ''}`;
  }
  if ((c.state === 'exited' || c.state === 'dead') && c.finishedAt && c.exitCode !== undefined) {
    return `Exited (${c.exitCode}) ${duration(now - Date.parse(c.finishedAt))} ago`;
  }
  return c.status;
}

/** Docker's wording of a duration (units.HumanDuration). */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}
