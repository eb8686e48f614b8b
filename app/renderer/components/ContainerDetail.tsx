// One container: header with its state and actions, and tabs for logs, terminal, inspect, stats.
import { useEffect, useState } from 'react';
import { berth } from '../berth.js';
import type { DetailTab } from '../stores/app-store.js';
import { statusLine } from '../stores/container-rows.js';
import { useNow } from './use-now.js';
import { shortId } from './format.js';
import { LogsPanel } from './LogsPanel.js';
import { useApp, useContainerAction } from './store-context.js';
import { TerminalPanel } from './TerminalPanel.js';
import { TerminalTabs } from './TerminalTabs.js';
import { StatsPanel } from './StatsPanel.js';
import { FilesPanel } from './FilesPanel.js';

const tabs: { id: DetailTab; label: string }[] = [
  { id: 'logs', label: 'Logs' }, { id: 'terminal', label: 'Terminal' }, { id: 'attach', label: 'Attach' },
  { id: 'inspect', label: 'Inspect' }, { id: 'stats', label: 'Stats' }, { id: 'files', label: 'Files' },
];

export function ContainerDetail({ id, tab }: { id: string; tab: DetailTab }) {
  const c = useApp((s) => s.containers.find((x) => x.id === id));
  const busy = useApp((s) => s.busy.has(id));
  const show = useApp((s) => s.show);
  const act = useContainerAction();
  const now = useNow(10_000);
  const api = berth();
  if (!c) {
    return (
      <section className="view">
        <p className="empty">This container no longer exists. <button className="link" onClick={() => show({ name: 'containers' })}>Back to containers</button></p>
      </section>
    );
  }
  const running = c.state === 'running';
  return (
    <section className="view detail" aria-label={`Container ${c.name}`}>
      <header className="view-header">
        <button className="link back" onClick={() => show({ name: 'containers' })} aria-label="Back to containers">←</button>
        <span className={`dot state-${c.state}`} />
        <h1>{c.name}</h1>
        <span className="muted">{c.image} · {shortId(c.id)} · {statusLine(c, now)}</span>
        <span className="spacer" />
        {running
          ? <button disabled={busy} onClick={() => act(id, `Stopping ${c.name}`, () => api.containers.stop(id))}>Stop</button>
          : <button disabled={busy} onClick={() => act(id, `Starting ${c.name}`, () => api.containers.start(id))}>Start</button>}
        <button disabled={busy} onClick={() => act(id, `Restarting ${c.name}`, () => api.containers.restart(id))}>Restart</button>
        {c.state === 'paused'
          ? <button disabled={busy} onClick={() => act(id, `Resuming ${c.name}`, () => api.containers.unpause(id))}>Resume</button>
          : <button disabled={busy || !running} onClick={() => act(id, `Pausing ${c.name}`, () => api.containers.pause(id))}>Pause</button>}
        <button className="danger" disabled={busy || (!running && c.state !== 'paused')} onClick={() => act(id, `Killing ${c.name}`, () => api.containers.kill(id))}>Kill</button>
      </header>
      <nav className="tabs" role="tablist">
        {tabs.map((t) => (
          <button key={t.id} role="tab" aria-selected={tab === t.id} className={tab === t.id ? 'active' : ''} onClick={() => show({ name: 'container', id, tab: t.id })}>{t.label}</button>
        ))}
      </nav>
      <div className="tab-body">
        {tab === 'logs' ? <LogsPanel containerId={id} /> : null}
        {tab === 'terminal' ? <TerminalTabs containerId={id} running={running} /> : null}
        {tab === 'attach' ? <TerminalPanel containerId={id} running={running} mode="attach" /> : null}
        {tab === 'inspect' ? <InspectPanel id={id} version={c.status} /> : null}
        {tab === 'stats' ? <StatsPanel id={id} running={running} /> : null}
        {tab === 'files' ? <FilesPanel containerId={id} /> : null}
      </div>
    </section>
  );
}

function InspectPanel({ id, version }: { id: string; version: string }) {
  const [text, setText] = useState('Loading…');
  useEffect(() => {
    berth().containers.inspect(id).then((j) => setText(JSON.stringify(j, null, 2)), (e: Error) => setText(e.message));
  }, [id, version]);
  return <pre className="inspect">{text}</pre>;
}
