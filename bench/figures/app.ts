// The app's figures, in Chromium through web mode: first paint of a 1000-container list; the time
// from an engine event reaching the app (berth web's events service) to its row changing in the
// DOM, which is the "event to row"; and the whole way from a rename request to the row. The
// same app measured over berthd and over dockerd, so the ratio says whether berthd feeds the app as
// fast as dockerd does; the goals are the issue's, absolute (≤ 300 ms first paint, ≤ 16 ms event to
// row). The Logs panel's figures are in app-logs.ts.
import { performance } from 'node:perf_hooks';
import { EngineClient } from '../../app/main/engine/engine-client';
import { parseEndpoint } from '../../app/main/engine/endpoint';
import { launchBrowser, startWebMode } from '../../e2e/app/harness';
import { ensureFixtures } from '../../e2e/fixtures/fixtures';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Figure } from '../harness';
import { appLogFigures } from './app-logs';

const run = promisify(execFile);
const COUNT = Number(process.env.BERTH_BENCH_CONTAINERS ?? 1000);
const PREFIX = 'berth-bench-app-';

interface Target { endpoint: string; env: NodeJS.ProcessEnv; image: string }

/** Creates COUNT stopped containers (created, never started), eight requests at a time. */
async function populate(t: Target): Promise<EngineClient> {
  const client = new EngineClient(parseEndpoint(t.endpoint));
  const names = Array.from({ length: COUNT }, (_, i) => `${PREFIX}${i}`);
  const worker = async () => {
    for (let name = names.pop(); name; name = names.pop()) await client.createContainer({ Image: t.image, Cmd: ['true'] }, name);
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return client;
}

async function clean(client: EngineClient): Promise<void> {
  const mine = (await client.listContainers(true)).filter((c) => c.Names?.some((n) => n.startsWith(`/${PREFIX}`)));
  const queue = mine.map((c) => c.Id!);
  const worker = async () => {
    for (let id = queue.pop(); id; id = queue.pop()) await client.removeContainer(id, { force: true }).catch(() => undefined);
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** First paint and the two update figures, in ms (medians). */
interface AppFigures {
  firstPaint: number;
  /** The event reaching berth web → its row changed in the DOM. */
  eventToRow?: number;
  /** The rename request sent → the row changed, and the engine's share of it (request → event at berth web). */
  renameToRow?: number;
  renameToEvent?: number;
  eventError?: string;
}

const RENAMES = 15;

// In the page: `__rowShows(name)` resolves with the moment a row named `name` is in the DOM. A
// MutationObserver's callback runs as a microtask right after the task that changed the DOM (here,
// React's commit), so its time is when the row changed, on the page's wall clock.
const PAGE_PROBE = `
window.__now = () => performance.timeOrigin + performance.now();
new MutationObserver((_, o) => {
  if (document.querySelector('.container-row')) { window.__firstRow = performance.now(); o.disconnect(); }
}).observe(document, { childList: true, subtree: true });
window.__rowShows = (name) => new Promise((resolve) => {
  const selector = '.container-row[data-container="' + CSS.escape(name) + '"]';
  const observer = new MutationObserver(() => {
    if (!document.querySelector(selector)) return;
    const at = window.__now();
    observer.disconnect();
    resolve(at);
  });
  observer.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-container'] });
});`;

/** Reads `berth web`'s last trace line for the event (BERTH_TRACE_EVENTS): when it arrived there. */
function traced(stderr: string, action: string, id: string): { received: number } | undefined {
  const pattern = new RegExp(`^berth web: event container ${action} ${id} stamped [0-9.]+ received ([0-9.]+)$`, 'gm');
  let last: { received: number } | undefined;
  for (const m of stderr.matchAll(pattern)) last = { received: Number(m[1]) };
  return last;
}

function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function measureApp(t: Target): Promise<AppFigures> {
  const client = await populate(t);
  // Both `berth web` and Chromium stamp times as performance.timeOrigin + performance.now(): the
  // machine's clock, read by two processes started within the same minute (no NTP slews it here).
  process.env.BERTH_TRACE_EVENTS = '1';
  const web = await startWebMode(t.endpoint).finally(() => delete process.env.BERTH_TRACE_EVENTS);
  const browser = await launchBrowser();
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  try {
    await browser.page.addInitScript(PAGE_PROBE);
    const paints: number[] = [];
    for (let i = 0; i < 4; i++) {
      await browser.page.goto(web.url);
      await browser.page.locator('.container-row').first().waitFor({ timeout: 60_000 });
      // The first load also warms the caches; it is not counted.
      if (i > 0) paints.push(await browser.page.evaluate<number>('window.__firstRow'));
    }
    // The rows of this run only (the reference engine may hold other people's containers); the
    // first of them is renamed back and forth, which keeps it first (a name sorts just before the
    // same name with "-r" appended), so the row stays rendered.
    await browser.page.getByLabel('Filter containers').fill(PREFIX);
    const first = browser.page.locator('.container-row').first();
    await first.waitFor();
    let name = (await first.getAttribute('data-container'))!;
    const id = (await client.inspectContainer(name)).Id!;
    const events: number[] = [];
    const renames: number[] = [];
    const engineShare: number[] = [];
    try {
      for (let i = 0; i <= RENAMES; i++) {
        const to = name.endsWith('-r') ? name.slice(0, -2) : `${name}-r`;
        await browser.page.evaluate(`window.__pending = window.__rowShows(${JSON.stringify(to)}); 0`);
        const sent = performance.timeOrigin + performance.now();
        await client.transport.request('POST', `/containers/${id}/rename`, { query: { name: to } });
        const shown = await within(10_000, browser.page.evaluate<number>('window.__pending'), `the row did not show the name ${to}`);
        name = to;
        // The trace line is written before the change leaves `berth web`; give the pipe a moment.
        let trace = traced(web.stderr(), 'rename', id);
        for (let wait = 0; trace === undefined || trace.received < sent; wait++) {
          if (wait > 50) throw new Error('berth web traced no rename event');
          await new Promise((r) => setTimeout(r, 10));
          trace = traced(web.stderr(), 'rename', id);
        }
        // The first rename warms the path (JIT, sockets); it is not counted.
        if (i === 0) continue;
        events.push(shown - trace.received);
        renames.push(shown - sent);
        engineShare.push(trace.received - sent);
      }
    } catch (err) {
      // An engine that emits no container events leaves the row as it was: say so in the table.
      return { firstPaint: median(paints), eventError: `no row update after a rename (does the engine emit container events?): ${(err as Error).message.split('\n')[0]}` };
    }
    return { firstPaint: median(paints), eventToRow: median(events), renameToRow: median(renames), renameToEvent: median(engineShare) };
  } finally {
    await browser.close();
    await web.stop();
    await clean(client);
    client.close();
  }
}

/** Each engine measured once for both figures; the promise is shared by the two rows. */
let both: Promise<{ berth: AppFigures; baseline?: AppFigures }> | undefined;

function measureBoth(engines: Parameters<Figure['measure']>[0]) {
  both ??= (async () => {
    const fixtures = await ensureFixtures();
    await run('docker', ['load', '-q', '-i', fixtures.busybox.dockerArchive], { env: engines.berthd.env });
    const berth = await measureApp({ endpoint: `unix://${engines.berthd.socket}`, env: engines.berthd.env, image: 'busybox:latest' });
    const baseline = engines.reference
      ? await measureApp({ endpoint: `unix://${engines.reference.socket}`, env: engines.reference.env, image: 'busybox:ref' })
      : undefined;
    return { berth, baseline };
  })();
  return both;
}

export const appFigures: Figure[] = [
  {
    name: `app: first paint of ${COUNT} containers`,
    unit: 'ms',
    better: 'lower',
    absoluteGoal: 300,
    async measure(engines) {
      const r = await measureBoth(engines);
      return { berth: r.berth.firstPaint, baseline: r.baseline?.firstPaint, baselineName: 'the app over dockerd' };
    },
  },
  {
    name: `app: engine event to row updated (${COUNT} containers)`,
    unit: 'ms',
    better: 'lower',
    absoluteGoal: 16,
    async measure(engines) {
      const r = await measureBoth(engines);
      if (r.berth.eventToRow === undefined) throw new Error(r.berth.eventError);
      return {
        berth: r.berth.eventToRow,
        baseline: r.baseline?.eventToRow,
        baselineName: 'the app over dockerd',
        note: `from a rename event reaching berth web to its row changed in the DOM, median of ${RENAMES}`,
      };
    },
  },
  {
    name: `app: rename to row updated (${COUNT} containers)`,
    unit: 'ms',
    better: 'lower',
    async measure(engines) {
      const r = await measureBoth(engines);
      if (r.berth.renameToRow === undefined) throw new Error(r.berth.eventError);
      const share = (f?: AppFigures) => (f?.renameToEvent === undefined ? '—' : `${f.renameToEvent.toFixed(1)} ms`);
      return {
        berth: r.berth.renameToRow,
        baseline: r.baseline?.renameToRow,
        baselineName: 'the app over dockerd',
        note: `POST rename → engine → event → berth web → row in the DOM; request → event at berth web: ${share(r.berth)} (dockerd ${share(r.baseline)})`,
      };
    },
  },
  ...appLogFigures,
];
