// Volumes and networks: lists with the facts that matter and remove.
import { berth } from '../berth.js';
import { formatBytes, shortId } from './format.js';
import { useApp } from './store-context.js';

/** Networks every engine creates and refuses to remove. */
const BUILTIN_NETWORKS = new Set(['bridge', 'host', 'none']);

export function VolumesView() {
  const volumes = useApp((s) => s.volumes);
  const notify = useApp((s) => s.notify);
  return (
    <section className="view" aria-label="Volumes">
      <header className="view-header">
        <h1>Volumes</h1>
        <span className="muted">{volumes.length} volumes</span>
        <span className="spacer" />
        <button onClick={() => {
          if (!window.confirm('Remove every volume no container uses? Their data is lost.')) return;
          berth().volumes.prune().then((bytes) => notify('info', `Pruned unused volumes: ${formatBytes(bytes)} reclaimed`), (e: Error) => notify('error', `Prune failed: ${e.message}`));
        }}>Prune</button>
      </header>
      <div className="table-head volume-grid" aria-hidden="true"><span>Name</span><span>Driver</span><span>Mountpoint</span><span /></div>
      {volumes.length === 0 ? <p className="empty">No volumes. Containers create them with -v name:/path.</p> : (
        <div className="rows">
          {volumes.map((v) => (
            <div key={v.name} className="plain-row volume-grid" data-volume={v.name}>
              <span className="ellipsis" title={v.name}>{v.name}</span>
              <span className="muted">{v.driver}</span>
              <span className="ellipsis muted mono" title={v.mountpoint}>{v.mountpoint}</span>
              <span className="actions">
                <button className="danger" aria-label={`Remove ${v.name}`} title="Remove" onClick={() => {
                  berth().volumes.remove(v.name).catch((e: Error) => notify('error', `Removing ${v.name} failed: ${e.message}`));
                }}>✕</button>
              </span>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}

export function NetworksView() {
  const networks = useApp((s) => s.networks);
  const notify = useApp((s) => s.notify);
  return (
    <section className="view" aria-label="Networks">
      <header className="view-header">
        <h1>Networks</h1>
        <span className="muted">{networks.length} networks</span>
      </header>
      <div className="table-head network-grid" aria-hidden="true"><span>Name</span><span>Id</span><span>Driver</span><span>Subnets</span><span /></div>
      <div className="rows">
        {networks.map((n) => (
          <div key={n.id} className="plain-row network-grid" data-network={n.name}>
            <span className="ellipsis">{n.name}</span>
            <span className="mono muted">{shortId(n.id)}</span>
            <span className="muted">{n.driver} · {n.scope}</span>
            <span className="ellipsis mono">{n.subnets.join(', ') || '—'}</span>
            <span className="actions">
              {BUILTIN_NETWORKS.has(n.name) ? null : (
                <button className="danger" aria-label={`Remove ${n.name}`} title="Remove" onClick={() => {
                  berth().networks.remove(n.id).catch((e: Error) => notify('error', `Removing ${n.name} failed: ${e.message}`));
                }}>✕</button>
              )}
            </span>
          </div>
        ))}
      </div>
    </section>
  );
}
