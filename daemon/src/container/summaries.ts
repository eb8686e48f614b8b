// The body of GET /containers/json, assembled from summaries encoded once per container. A list of
// a thousand containers is most of a megabyte of JSON; building and encoding every item on every
// request cost more than dockerd takes for a hundred. Each container's summary is kept as two
// encoded fragments around State and Status (read live: Status holds a duration), and is encoded
// again only when the container's record was saved or its network changed since (the store and the
// networkdriver count those writes).
import type { Container } from './container';
import type { ContainerStore } from './store';
import type { ContainerAttachments } from '../drivers/attachments';
import { describeState, type ContainerStatus } from './state';
import { summaryParts } from './views';

interface Summary {
  /** The store's and the networkdriver's revisions the fragments were encoded at. */
  record: number;
  network: number;
  /** `{"Id":…,"Labels":{…},"State":` */
  head: Buffer;
  /** `,"HostConfig":…,"Mounts":[…]` without the closing brace, so sizes can follow. */
  tail: Buffer;
  /** The State and Status fragment the whole item below was made with. */
  live: string;
  /** head, live, tail and the closing brace: the item as it is listed without sizes. */
  item: Buffer;
}

const EMPTY = Buffer.alloc(0);
const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE_ITEM = Buffer.from('}');
const CLOSE = Buffer.from(']\n');

/** `"running","Status":` and so on: the State word and the key after it, per status. */
const STATE_FRAGMENTS = new Map<ContainerStatus, string>(
  (['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'] as const).map((s) => [s, `"${s}","Status":`]),
);

/** A JSON string literal; Status texts are plain words, numbers and parentheses, so rarely escaped. */
const quote = (text: string) => (/["\\\u0000-\u001f\ud800-\udfff]/.test(text) ? JSON.stringify(text) : `"${text}"`);

/** Parsed RFC 3339 times of the states, kept while few: each item's Status needs one or two. */
class TimeCache {
  private readonly parsed = new Map<string, number>();
  readonly parse = (time: string): number => {
    let ms = this.parsed.get(time);
    if (ms === undefined) {
      if (this.parsed.size >= 8192) this.parsed.clear();
      ms = Date.parse(time);
      this.parsed.set(time, ms);
    }
    return ms;
  };
}

export class ContainerSummaries {
  /** Weak: a removed container's summary goes with it. */
  private readonly cache = new WeakMap<Container, Summary>();
  private readonly times = new TimeCache();
  /** The last body without sizes and the items it was assembled from: asked again, it is sent again. */
  private last: { items: Buffer[]; body: Buffer } = { items: [], body: Buffer.from('[]\n') };

  constructor(private readonly store: ContainerStore, private readonly attachments: ContainerAttachments) {}

  /** The encoded summary of `c`, encoding it again if it changed since. */
  private summary(c: Container): Summary {
    const record = this.store.revision(c);
    const network = this.attachments.revision(c.id);
    const kept = this.cache.get(c);
    if (kept && kept.record === record && kept.network === network) return kept;
    const { before, after } = summaryParts(c, this.attachments);
    const head = JSON.stringify(before);
    const tail = JSON.stringify(after);
    const summary: Summary = {
      record,
      network,
      head: Buffer.from(`${head.slice(0, -1)},"State":`),
      tail: Buffer.from(`,${tail.slice(1, -1)}`),
      live: '',
      item: EMPTY,
    };
    this.cache.set(c, summary);
    return summary;
  }

  /** `"exited","Status":"Exited (0) 2 hours ago"`: changes with the state, and with the clock. */
  private live(c: Container, now: number): string {
    const state = c.record.State;
    return `${STATE_FRAGMENTS.get(state.Status) ?? `${quote(state.Status)},"Status":`}${quote(describeState(state, now, this.times.parse))}`;
  }

  /**
   * The JSON array of the containers' list items, in the given order, with a trailing newline as
   * dockerd sends it; `sizes[i]` adds SizeRw and SizeRootFs to the i-th item.
   */
  encode(list: Container[], sizes?: ({ rw: number; rootFs: number } | undefined)[], now = Date.now()): Buffer {
    const items: Buffer[] = new Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      const s = this.summary(c);
      const live = this.live(c, now);
      const size = sizes?.[i];
      if (size) {
        items[i] = Buffer.concat([s.head, Buffer.from(live), s.tail, Buffer.from(`,"SizeRw":${size.rw},"SizeRootFs":${size.rootFs}}`)]);
        continue;
      }
      // A Status reads the same for seconds to hours: the whole item is kept until it changes.
      if (live !== s.live) {
        s.item = Buffer.concat([s.head, Buffer.from(live), s.tail, CLOSE_ITEM]);
        s.live = live;
      }
      items[i] = s.item;
    }
    // Copying a thousand items costs more than comparing them: an unchanged list is sent as it was.
    if (!sizes && items.length === this.last.items.length && items.every((item, i) => item === this.last.items[i])) return this.last.body;
    const chunks: Buffer[] = [OPEN];
    for (let i = 0; i < items.length; i++) {
      if (i > 0) chunks.push(COMMA);
      chunks.push(items[i]!);
    }
    chunks.push(CLOSE);
    const body = Buffer.concat(chunks);
    if (!sizes) this.last = { items, body };
    return body;
  }
}
