// A build's log in a read-only xterm.js terminal: what the store holds is written at once, then
// each chunk as it arrives (the builder's colours and carriage returns drawn as a terminal would).
import { useContext, useEffect, useRef } from 'react';
import { unreadChunks, type BuildRun } from '../stores/builds.js';
import { StoreContext } from './store-context.js';
import { createXterm } from './xterm.js';

export function BuildLog({ buildId }: { buildId: string }) {
  const host = useRef<HTMLDivElement>(null);
  const store = useContext(StoreContext);

  useEffect(() => {
    if (!host.current || !store) return;
    const xterm = createXterm(host.current, { disableStdin: true, scrollback: 20_000 });
    let next = 0;
    const draw = (run: BuildRun | undefined): void => {
      if (!run) return;
      const unread = unreadChunks(run, next);
      next = unread.next;
      // The engine writes "\n"; a terminal needs "\r\n" to go back to the first column.
      if (unread.chunks.length) xterm.term.write(unread.chunks.join('').replace(/\r?\n/g, '\r\n'));
    };
    draw(store.getState().builds[buildId]);
    const unsubscribe = store.subscribe((s, before) => {
      if (s.builds[buildId] !== before.builds[buildId]) draw(s.builds[buildId]);
    });
    return () => {
      unsubscribe();
      xterm.dispose();
    };
  }, [buildId, store]);

  return <div className="terminal-host build-terminal" ref={host} data-testid="build-log" />;
}
