// The container list: grouped by compose project, virtualised, with the common actions per row.
import { memo, useMemo, useState } from 'react';
import type { ContainerView } from '../../shared/views.js';
import { berth } from '../berth.js';
import { containerRows, portLabel, portUrl, statusLine, type ContainerRow } from '../stores/container-rows.js';
import { useApp, useContainerAction } from './store-context.js';
import { RunDialog } from './RunDialog.js';
import { useNow } from './use-now.js';
import { VirtualList } from './VirtualList.js';

const ROW_HEIGHT = 48;

export function ContainersView() {
  const containers = useApp((s) => s.containers);
  const filter = useApp((s) => s.filter);
  const collapsed = useApp((s) => s.collapsed);
  const setFilter = useApp((s) => s.setFilter);
  const rows = useMemo(() => containerRows(containers, filter, collapsed), [containers, filter, collapsed]);
  const running = containers.filter((c) => c.state === 'running').length;
  const [runOpen, setRunOpen] = useState(false);
  const selected = useApp((s) => s.selected);
  const setSelected = useApp((s) => s.setSelected);
  const visible = rows.filter((r): r is Extract<ContainerRow, { kind: 'container' }> => r.kind === 'container').map((r) => r.container.id);
  const allTicked = visible.length > 0 && visible.every((id) => selected.has(id));
  const now = useNow(10_000);

  return (
    <section className="view" aria-label="Containers">
      <header className="view-header">
        <h1>Containers</h1>
        <span className="muted">{running} running · {containers.length} total</span>
        <input className="search" type="search" placeholder="Filter by name, image, state, port" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter containers" />
        <button className="primary" onClick={() => setRunOpen(true)}>Run…</button>
      </header>
      {runOpen ? <RunDialog onClose={() => setRunOpen(false)} /> : null}
      {selected.size ? <BulkBar /> : null}
      <div className="table-head container-grid">
        <input type="checkbox" aria-label="Select all shown" checked={allTicked} onChange={() => setSelected(allTicked ? [] : visible)} />
        <span>Name</span>
        <span>Image</span>
        <span>Ports</span>
        <span>Status</span>
        <span className="right">Actions</span>
      </div>
      {rows.length === 0 ? (
        <p className="empty">{containers.length === 0 ? 'No containers yet. Run one with the docker CLI and it appears here.' : 'No container matches the filter.'}</p>
      ) : (
        <VirtualList count={rows.length} rowHeight={ROW_HEIGHT} itemKey={(i) => rows[i]!.key} renderRow={(i) => rowView(rows[i]!, now)} label="Container list" />
      )}
    </section>
  );
}

/**
 * A row's component gets only the values it shows, and both kinds are memoised: a change to one
 * container (a new object in the store) re-renders that row alone, not every row in view.
 */
function rowView(row: ContainerRow, now: number) {
  return row.kind === 'group'
    ? <GroupRow project={row.project} running={row.running} total={row.total} />
    : <ContainerRowView c={row.container} now={now} />;
}

const GroupRow = memo(function GroupRow({ project, running, total }: { project: string; running: number; total: number }) {
  const toggleGroup = useApp((s) => s.toggleGroup);
  const open = useApp((s) => !s.collapsed.has(project));
  return (
    <button className="group-row" onClick={() => toggleGroup(project)} aria-expanded={open}>
      <span className="chevron">{open ? '▾' : '▸'}</span>
      <strong>{project}</strong>
      <span className="muted">{running}/{total} running</span>
    </button>
  );
});

const ContainerRowView = memo(function ContainerRowView({ c, now }: { c: ContainerView; now: number }) {
  const show = useApp((s) => s.show);
  const busy = useApp((s) => s.busy.has(c.id));
  const ticked = useApp((s) => s.selected.has(c.id));
  const toggleSelected = useApp((s) => s.toggleSelected);
  const act = useContainerAction();
  const api = berth();
  const isUp = c.state === 'running' || c.state === 'paused' || c.state === 'restarting';
  return (
    <div className={`container-row container-grid ${busy ? 'busy' : ''}`} data-container={c.name} data-state={c.state}>
      <span className="tick">
        <input type="checkbox" aria-label={`Select ${c.name}`} checked={ticked} onChange={() => toggleSelected(c.id)} />
        <span className={`dot state-${c.state}`} title={c.state} aria-label={c.state} />
      </span>
      <button className="link name" onClick={() => show({ name: 'container', id: c.id, tab: 'logs' })} title={c.id}>{c.name}</button>
      <span className="ellipsis muted" title={c.image}>{c.image}</span>
      <span className="ports">
        {c.ports.map((p) => {
          const url = portUrl(p);
          const label = portLabel(p);
          return url ? <a key={label} href={url} target="_blank" rel="noreferrer noopener">{label}</a> : <span key={label} className="muted">{label}</span>;
        })}
      </span>
      <span className="ellipsis status" title={c.status}>{statusLine(c, now)}</span>
      <span className="actions">
        {isUp ? (
          <button onClick={() => act(c.id, `Stopping ${c.name}`, () => api.containers.stop(c.id))} disabled={busy} aria-label={`Stop ${c.name}`} title="Stop">■</button>
        ) : (
          <button onClick={() => act(c.id, `Starting ${c.name}`, () => api.containers.start(c.id))} disabled={busy} aria-label={`Start ${c.name}`} title="Start">▶</button>
        )}
        <button onClick={() => act(c.id, `Restarting ${c.name}`, () => api.containers.restart(c.id))} disabled={busy} aria-label={`Restart ${c.name}`} title="Restart">↻</button>
        <button
          className="danger"
          onClick={() => {
            if (isUp && !window.confirm(`Remove the running container ${c.name}? It will be killed.`)) return;
            void act(c.id, `Removing ${c.name}`, () => api.containers.remove(c.id, { force: isUp }));
          }}
          disabled={busy}
          aria-label={`Remove ${c.name}`}
          title="Remove"
        >✕</button>
      </span>
    </div>
  );
});

/** Start, stop, restart or remove every ticked container; each failure is reported on its own. */
function BulkBar() {
  const selected = useApp((s) => s.selected);
  const containers = useApp((s) => s.containers);
  const setSelected = useApp((s) => s.setSelected);
  const act = useContainerAction();
  const api = berth();
  const chosen = containers.filter((c) => selected.has(c.id));
  const up = (c: ContainerView) => c.state === 'running' || c.state === 'paused' || c.state === 'restarting';
  const each = (label: string, which: (c: ContainerView) => boolean, fn: (c: ContainerView) => Promise<unknown>) =>
    void Promise.all(chosen.filter(which).map((c) => act(c.id, `${label} ${c.name}`, () => fn(c))));
  return (
    <div className="bulk-bar" role="toolbar" aria-label="Bulk actions">
      <strong>{chosen.length} selected</strong>
      <button onClick={() => each('Starting', (c) => !up(c), (c) => api.containers.start(c.id))}>Start</button>
      <button onClick={() => each('Stopping', up, (c) => api.containers.stop(c.id))}>Stop</button>
      <button onClick={() => each('Restarting', () => true, (c) => api.containers.restart(c.id))}>Restart</button>
      <button className="danger" onClick={() => {
        if (!window.confirm(`Remove ${chosen.length} container${chosen.length === 1 ? '' : 's'}? Running ones are killed.`)) return;
        each('Removing', () => true, (c) => api.containers.remove(c.id, { force: true }));
      }}>Remove</button>
      <span className="spacer" />
      <button className="link" onClick={() => setSelected([])}>Clear selection</button>
    </div>
  );
}
