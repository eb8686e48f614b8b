// Images: the list with sizes and usage, pull by reference, build from a folder, remove.
import { useMemo, useState } from 'react';
import type { PullProgress } from '../../shared/views.js';
import { berth } from '../berth.js';
import { age, formatBytes, shortId } from './format.js';
import { useApp } from './store-context.js';
import { VirtualList } from './VirtualList.js';

export function ImagesView() {
  const all = useApp((s) => s.images);
  const [filter, setFilter] = useState('');
  const images = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return f ? all.filter((i) => i.id.includes(f) || i.tags.some((t) => t.toLowerCase().includes(f))) : all;
  }, [all, filter]);
  const notify = useApp((s) => s.notify);
  const show = useApp((s) => s.show);
  const [reference, setReference] = useState('');
  const pulls = useApp((s) => s.pulls);
  const total = all.reduce((n, i) => n + i.size, 0);

  const pull = async () => {
    const ref = reference.trim();
    if (!ref) return;
    setReference('');
    try {
      await berth().images.pull(ref);
      notify('info', `Pulled ${ref}`);
    } catch (err) {
      notify('error', `Pulling ${ref} failed: ${(err as Error).message}`);
    }
  };

  return (
    <section className="view" aria-label="Images">
      <header className="view-header">
        <h1>Images</h1>
        <span className="muted">{all.length} images · {formatBytes(total)}</span>
        <span className="spacer" />
        <input className="search" type="search" placeholder="Filter by tag or id" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter images" />
        <button onClick={() => {
          if (!window.confirm('Remove every dangling image (untagged and unused)?')) return;
          berth().images.prune({ all: false }).then((bytes) => notify('info', `Pruned dangling images: ${formatBytes(bytes)} reclaimed`), (e: Error) => notify('error', `Prune failed: ${e.message}`));
        }}>Prune</button>
        <button className="primary" onClick={() => show({ name: 'build' })}>Build…</button>
        <form className="pull" onSubmit={(e) => { e.preventDefault(); void pull(); }}>
          <input type="text" placeholder="image:tag to pull" value={reference} onChange={(e) => setReference(e.target.value)} aria-label="Image to pull" />
          <button type="submit" disabled={!reference.trim()}>Pull</button>
        </form>
      </header>
      {Object.values(pulls).map((p) => <PullCard key={p.reference} pull={p} />)}
      <div className="table-head image-grid" aria-hidden="true"><span>Tag</span><span>Id</span><span>Size</span><span>Created</span><span>Used by</span><span /></div>
      {images.length === 0 ? <p className="empty">{all.length ? 'No image matches the filter.' : 'No images.'}</p> : (
        <VirtualList
          count={images.length}
          rowHeight={44}
          itemKey={(i) => images[i]!.id}
          label="Image list"
          renderRow={(i) => {
            const img = images[i]!;
            const name = img.tags[0] ?? (img.digests[0]?.split('@')[0] ? `${img.digests[0].split('@')[0]}@…` : '<none>');
            return (
              <div className="image-row image-grid" data-image={name}>
                <span className="ellipsis" title={img.tags.join(', ')}>
                  <button className="link name" onClick={() => show({ name: 'image', reference: img.tags[0] ?? img.id })}>{name}</button>
                  {img.tags.length > 1 ? <span className="muted"> +{img.tags.length - 1}</span> : null}
                </span>
                <span className="mono muted">{shortId(img.id)}</span>
                <span>{formatBytes(img.size)}</span>
                <span className="muted">{age(img.created)}</span>
                <span className="muted">{img.containers < 0 ? '—' : img.containers === 0 ? 'unused' : `${img.containers} container${img.containers === 1 ? '' : 's'}`}</span>
                <span className="actions">
                  <button className="danger" aria-label={`Remove ${name}`} title="Remove" onClick={() => {
                    berth().images.remove(img.tags[0] ?? img.id, { force: false }).catch((err: Error) => notify('error', `Removing ${name} failed: ${err.message}`));
                  }}>✕</button>
                </span>
              </div>
            );
          }}
        />
      )}
    </section>
  );
}

/** One pull: an overall bar from the layers' bytes, and a line per layer. */
function PullCard({ pull }: { pull: PullProgress }) {
  const total = pull.layers.reduce((n, l) => n + (l.total ?? 0), 0);
  const current = pull.layers.reduce((n, l) => n + Math.min(l.current ?? 0, l.total ?? 0), 0);
  return (
    <div className={`pull-card ${pull.done ? 'done' : ''}`} data-pull={pull.reference} aria-label={`Pulling ${pull.reference}`}>
      <div className="pull-line">
        <strong>{pull.reference}</strong>
        <span className="muted ellipsis">{pull.error ? '' : pull.status}</span>
        <span className="spacer" />
        <span className="muted">{total ? `${formatBytes(current)} / ${formatBytes(total)}` : ''}</span>
      </div>
      {total ? <progress className="pull-total" max={total} value={current} /> : null}
      {pull.error ? <p className="error-text">{pull.error}</p> : null}
      <ul className="pull-layers">
        {pull.layers.map((l) => (
          <li key={l.id} className="pull-layer">
            <span className="mono muted">{l.id.slice(0, 12)}</span>
            <span className="ellipsis">{l.status}</span>
            {l.total ? <progress max={l.total} value={l.current ?? 0} /> : <span />}
          </li>
        ))}
      </ul>
    </div>
  );
}
