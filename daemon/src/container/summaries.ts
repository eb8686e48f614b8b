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
}

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
    };
    this.cache.set(c, summary);
    return summary;
  }

  /**
   * The JSON array of the containers' list items, in the given order, with a trailing newline as
   * dockerd sends it; `sizes[i]` adds SizeRw and SizeRootFs to the i-th item.
   */
  encode(list: Container[], sizes?: ({ rw: number; rootFs: number } | undefined)[], now = Date.now()): Buffer {
    // Two passes: the fragments and their length, then one buffer they are copied into.
    const summaries: Summary[] = new Array(list.length);
    const live: string[] = new Array(list.length);
    let length = 3; // [ ] \n
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      const s = (summaries[i] = this.summary(c));
      const state = c.record.State;
      const size = sizes?.[i];
      const text = `${STATE_FRAGMENTS.get(state.Status) ?? `${quote(state.Status)},"Status":`}${quote(describeState(state, now, this.times.parse))}`;
      live[i] = text;
      length += (i > 0 ? 1 : 0) + s.head.length + Buffer.byteLength(text) + s.tail.length + 1;
      if (size) length += Buffer.byteLength(sizeFields(size)) - 1;
    }
    const out = Buffer.allocUnsafe(length);
    let at = 0;
    out[at++] = 0x5b; // [
    for (let i = 0; i < list.length; i++) {
      if (i > 0) out[at++] = 0x2c; // ,
      const s = summaries[i]!;
      at += s.head.copy(out, at);
      at += out.write(live[i]!, at);
      at += s.tail.copy(out, at);
      const size = sizes?.[i];
      if (size) at += out.write(sizeFields(size), at);
      else out[at++] = 0x7d; // }
    }
    out[at++] = 0x5d; // ]
    out[at++] = 0x0a;
    return out;
  }
}

const sizeFields = (size: { rw: number; rootFs: number }) => `,"SizeRw":${size.rw},"SizeRootFs":${size.rootFs}}`;
