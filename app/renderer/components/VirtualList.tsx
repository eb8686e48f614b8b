// A list that renders only the rows in view (plus a margin), so thousands of rows stay fluid.
// Rows have one fixed height; the list scrolls a spacer of the full height.
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode, type RefObject } from 'react';

export interface VirtualListProps {
  count: number;
  rowHeight: number;
  itemKey(index: number): string;
  renderRow(index: number): ReactNode;
  /** Index to bring into view when it changes. */
  scrollToIndex?: number;
  /** Keeps the view pinned to the last row while the person has not scrolled up. */
  stickToBottom?: boolean;
  className?: string;
  label?: string;
  listRef?: RefObject<HTMLDivElement | null>;
}

const OVERSCAN = 8;

export function VirtualList({ count, rowHeight, itemKey, renderRow, scrollToIndex, stickToBottom, className, label, listRef }: VirtualListProps) {
  const ownRef = useRef<HTMLDivElement>(null);
  const ref = listRef ?? ownRef;
  const [viewport, setViewport] = useState({ top: 0, height: 600 });
  const pinned = useRef(true);

  const stick = useRef(stickToBottom);
  stick.current = stickToBottom;

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      // A pinned view that shrinks (a note appearing below it) would hide its last rows.
      if (stick.current && pinned.current) el.scrollTop = el.scrollHeight;
      setViewport({ top: el.scrollTop, height: el.clientHeight });
    };
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    measure();
    return () => observer.disconnect();
  }, [ref]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || !stickToBottom || !pinned.current) return;
    el.scrollTop = el.scrollHeight;
    // Draw the rows now in view before this frame is painted, not after the scroll event (a
    // frame later, showing blank space where the new last rows go).
    setViewport((v) => (v.top === el.scrollTop && v.height === el.clientHeight ? v : { top: el.scrollTop, height: el.clientHeight }));
  }, [count, stickToBottom, ref]);

  useEffect(() => {
    const el = ref.current;
    if (!el || scrollToIndex === undefined || scrollToIndex < 0) return;
    const top = scrollToIndex * rowHeight;
    if (top < el.scrollTop || top + rowHeight > el.scrollTop + el.clientHeight) {
      el.scrollTop = Math.max(0, top - el.clientHeight / 2);
    }
  }, [scrollToIndex, rowHeight, ref]);

  const first = Math.max(0, Math.floor(viewport.top / rowHeight) - OVERSCAN);
  const last = Math.min(count, Math.ceil((viewport.top + viewport.height) / rowHeight) + OVERSCAN);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div key={itemKey(i)} className="vrow" style={{ transform: `translateY(${i * rowHeight}px)`, height: rowHeight }} role="listitem" aria-posinset={i + 1} aria-setsize={count}>
        {renderRow(i)}
      </div>,
    );
  }
  return (
    <div
      ref={ref}
      className={`vlist ${className ?? ''}`}
      role="list"
      aria-label={label}
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollTop + el.clientHeight >= el.scrollHeight - rowHeight;
        setViewport({ top: el.scrollTop, height: el.clientHeight });
      }}
    >
      <div className="vspacer" style={{ height: count * rowHeight }}>{rows}</div>
    </div>
  );
}
