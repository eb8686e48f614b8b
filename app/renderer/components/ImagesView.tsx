// Images: the list with sizes and usage, pull by reference, remove.
import { useState } from 'react';
import { berth } from '../berth.js';
import { age, formatBytes, shortId } from './format.js';
import { useApp } from './store-context.js';
import { VirtualList } from './VirtualList.js';

export function ImagesView() {
  const images = useApp((s) => s.images);
  const notify = useApp((s) => s.notify);
  const [reference, setReference] = useState('');
  const [pulling, setPulling] = useState<string[]>([]);
  const total = images.reduce((n, i) => n + i.size, 0);

  const pull = async () => {
    const ref = reference.trim();
    if (!ref) return;
    setReference('');
    setPulling((p) => [...p, ref]);
    try {
      await berth().images.pull(ref);
      notify('info', `Pulled ${ref}`);
    } catch (err) {
      notify('error', `Pulling ${ref} failed: ${(err as Error).message}`);
    } finally {
      setPulling((p) => p.filter((x) => x !== ref));
    }
  };

  return (
    <section className="view" aria-label="Images">
      <header className="view-header">
        <h1>Images</h1>
        <span className="muted">{images.length} images · {formatBytes(total)}</span>
        <span className="spacer" />
        <form className="pull" onSubmit={(e) => { e.preventDefault(); void pull(); }}>
          <input type="text" placeholder="image:tag to pull" value={reference} onChange={(e) => setReference(e.target.value)} aria-label="Image to pull" />
          <button type="submit" disabled={!reference.trim()}>Pull</button>
        </form>
      </header>
      {pulling.length ? <p className="muted pulling">Pulling {pulling.join(', ')}…</p> : null}
      <div className="table-head image-grid" aria-hidden="true"><span>Tag</span><span>Id</span><span>Size</span><span>Created</span><span>Used by</span><span /></div>
      {images.length === 0 ? <p className="empty">No images.</p> : (
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
                <span className="ellipsis" title={img.tags.join(', ')}>{name}{img.tags.length > 1 ? <span className="muted"> +{img.tags.length - 1}</span> : null}</span>
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
