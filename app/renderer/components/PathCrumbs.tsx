// The clickable path above a file tree (container files, image layers): `/ a / b`, each part
// opening that directory.
export function PathCrumbs({ dir, onOpen }: { dir: string; onOpen: (dir: string) => void }) {
  const parts = dir.split('/').filter(Boolean);
  return (
    <nav className="crumbs" aria-label="Path">
      <button className="link" onClick={() => onOpen('/')}>/</button>
      {parts.map((p, i) => (
        <span key={i}>
          <button className="link" onClick={() => onOpen('/' + parts.slice(0, i + 1).join('/'))}>{p}</button>
          {i < parts.length - 1 ? ' / ' : ''}
        </span>
      ))}
    </nav>
  );
}
