// The app's figures, in Chromium through web mode: first paint of a 1000-container list, and the
// time from a change in the engine to the row showing it. The same app measured over berthd and
// over dockerd, so the ratio says whether berthd feeds the app as fast as dockerd does; the
// issue's absolute goals (≤ 300 ms first paint, ≤ 16 ms event to row) are in the note.
import { performance } from 'node:perf_hooks';
import { EngineClient } from '../../app/main/engine/engine-client';
import { parseEndpoint } from '../../app/main/engine/endpoint';
import { launchBrowser, startWebMode } from '../../e2e/app/harness';
import { ensureFixtures } from '../../e2e/fixtures/fixtures';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Figure } from '../harness';

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

/** Opens the app on an engine holding COUNT containers; returns both figures in ms (medians of 3). */
interface AppFigures { firstPaint: number; eventToRow?: number; eventError?: string }

async function measureApp(t: Target): Promise<AppFigures> {
  const client = await populate(t);
  const web = await startWebMode(t.endpoint);
  const browser = await launchBrowser();
  try {
    // The page notes when the first row enters the DOM; performance.now() counts from the navigation.
    await browser.page.addInitScript(`new MutationObserver((_, o) => {
      if (document.querySelector('.container-row')) { window.__firstRow = performance.now(); o.disconnect(); }
    }).observe(document, { childList: true, subtree: true });`);
    const paints: number[] = [];
    for (let i = 0; i < 4; i++) {
      await browser.page.goto(web.url);
      await browser.page.locator('.container-row').first().waitFor({ timeout: 60_000 });
      // The first load also warms the caches; it is not counted.
      if (i > 0) paints.push(await browser.page.evaluate<number>('window.__firstRow'));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const changes: number[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const from = `${PREFIX}${i}`;
        const to = `${PREFIX}renamed-${i}`;
        await browser.page.getByLabel('Filter containers').fill(from);
        await browser.page.locator(`[data-container="${from}"]`).waitFor();
        const t0 = performance.now();
        await client.transport.request('POST', `/containers/${from}/rename`, { query: { name: to } });
        await browser.page.getByLabel('Filter containers').fill(to);
        await browser.page.locator(`[data-container="${to}"]`).waitFor({ timeout: 10_000 });
        changes.push(performance.now() - t0);
      }
    } catch (err) {
      // An engine that emits no container events leaves the row as it was: say so in the table.
      return { firstPaint: median(paints), eventError: `no row update within 10 s of a rename (does the engine emit container events?): ${(err as Error).message.split('\n')[0]}` };
    }
    return { firstPaint: median(paints), eventToRow: median(changes) };
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
    goal: 1.2,
    async measure(engines) {
      const r = await measureBoth(engines);
      return { berth: r.berth.firstPaint, baseline: r.baseline?.firstPaint, baselineName: 'the app over dockerd', note: 'goal: ≤ 300 ms' };
    },
  },
  {
    name: `app: engine change to row updated (${COUNT} containers)`,
    unit: 'ms',
    better: 'lower',
    goal: 1.2,
    async measure(engines) {
      const r = await measureBoth(engines);
      if (r.berth.eventToRow === undefined) throw new Error(r.berth.eventError);
      return { berth: r.berth.eventToRow, baseline: r.baseline?.eventToRow, baselineName: 'the app over dockerd', note: 'rename → event → row; goal for event → row: ≤ 16 ms' };
    },
  },
];
