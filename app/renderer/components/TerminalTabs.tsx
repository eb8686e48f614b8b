// Several shells on one container, as tabs. Each tab keeps its session while hidden.
import { useState } from 'react';
import { TerminalPanel } from './TerminalPanel.js';

export function TerminalTabs({ containerId, running }: { containerId: string; running: boolean }) {
  const [tabs, setTabs] = useState<number[]>([1]);
  const [active, setActive] = useState(1);
  const [next, setNext] = useState(2);
  if (!running) return <TerminalPanel containerId={containerId} running={false} />;

  const add = () => {
    setTabs([...tabs, next]);
    setActive(next);
    setNext(next + 1);
  };
  const close = (tab: number) => {
    const rest = tabs.filter((t) => t !== tab);
    setTabs(rest);
    if (active === tab && rest.length) setActive(rest[rest.length - 1]!);
  };

  return (
    <div className="terminal-tabs">
      <div className="subtabs" role="tablist" aria-label="Shells">
        {tabs.map((t, i) => (
          <span key={t} className={`subtab ${t === active ? 'active' : ''}`}>
            <button role="tab" aria-selected={t === active} onClick={() => setActive(t)}>Shell {i + 1}</button>
            <button className="close" aria-label={`Close shell ${i + 1}`} onClick={() => close(t)}>×</button>
          </span>
        ))}
        <button className="add" onClick={add} aria-label="New shell">+</button>
      </div>
      {tabs.length === 0 ? <p className="empty">No shell open. <button className="link" onClick={add}>Open one</button></p> : null}
      {tabs.map((t) => <TerminalPanel key={t} containerId={containerId} running hidden={t !== active} />)}
    </div>
  );
}
