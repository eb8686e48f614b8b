// The app in Chromium against a real engine, through web mode: what a person sees and does.
// Screenshots of each view land in test-artifacts/app/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import {
  docker, removeContainers, screenshot, startTestEngine, uniqueName,
  type Browser, type TestEngine, type WebMode, engineChoice, xtermText, openApp } from './harness';

let engine: TestEngine;
let web: WebMode;
let browser: Browser;
let page: Page;
// One tag for this run's containers: the list is filtered to it, so containers other tests make on
// the same engine at the same time never push these out of the (virtualised) view.
const run = uniqueName('ui');
const logger = `${run}-logger`;
const shell = `${run}-shell`;
const victim = `${run}-victim`;
const grouped = `${run}-grouped`;
const ran = `${run}-ran`;
const attachable = `${run}-attachable`;
const doomed = `${run}-doomed`;
const finished = `${run}-finished`;
const names = [logger, shell, victim, grouped, ran, attachable, doomed, finished];

beforeAll(async () => {
  engine = await startTestEngine();
  const testImage = engine.image;
  await docker(engine, 'run', '-d', '--name', logger, testImage, 'sh', '-c',
    'i=0; while [ $i -lt 40 ]; do echo "line $i from stdout"; echo "problem $i on stderr" >&2; i=$((i+1)); done; echo needle-in-the-log; sleep 3600');
  await docker(engine, 'run', '-d', '--name', shell, testImage, 'sleep', '3600');
  // Exits on SIGTERM (a bare sleep as PID 1 ignores it, and stop would wait its 10 s for the kill).
  await docker(engine, 'run', '-d', '--name', victim, testImage, 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done');
  await docker(engine, 'run', '-dit', '--name', attachable, testImage, 'sh');
  await docker(engine, 'run', '-d', '--name', grouped, '--label', 'com.docker.compose.project=berthdemo', testImage, 'sleep', '3600');
  ({ web, browser, page } = await openApp(engine.endpoint));
  await page.getByLabel('Filter containers').fill(run);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  await removeContainers(engine, names);
  await engine?.stop();
});

const row = (name: string) => page.locator(`[data-container="${name}"]`);

/** Every line of the visible terminal's xterm buffer. */
const terminalText = () => xtermText(page, '.terminal-panel:not([hidden]) [data-testid=terminal]');

describe(`the app in web mode against ${engineChoice}`, () => {
  it('lists the containers the docker CLI started, grouped by compose project', async () => {
    for (const name of [logger, shell, victim, grouped, attachable]) await row(name).waitFor({ timeout: 15_000 });
    expect(await row(logger).getAttribute('data-state')).toBe('running');
    await expect.poll(() => page.locator('.group-row', { hasText: 'berthdemo' }).count()).toBe(1);
    await page.locator('.engine[data-connection="connected"]').waitFor();
    await screenshot(page, 'containers');
  });

  it('stops a container by click, and the engine agrees', async () => {
    await page.getByRole('button', { name: `Stop ${victim}`, exact: true }).click();
    await page.locator(`[data-container="${victim}"][data-state="exited"]`).waitFor({ timeout: 30_000 });
    expect(await docker(engine, 'inspect', '-f', '{{.State.Status}}', victim)).toBe('exited');
    await page.getByRole('button', { name: `Start ${victim}`, exact: true }).click();
    await page.locator(`[data-container="${victim}"][data-state="running"]`).waitFor({ timeout: 30_000 });
  });

  it('updates a row from engine events when the CLI changes a container', async () => {
    await expect.poll(() => docker(engine, 'inspect', '-f', '{{.State.Status}}', victim)).toBe('running');
    await docker(engine, 'pause', victim);
    await page.locator(`[data-container="${victim}"][data-state="paused"]`).waitFor({ timeout: 15_000 });
    await docker(engine, 'unpause', victim);
    await page.locator(`[data-container="${victim}"][data-state="running"]`).waitFor({ timeout: 15_000 });
  });

  it('tells the person when a running container dies', async () => {
    await docker(engine, 'run', '-d', '--name', doomed, engine.image, 'sh', '-c', 'sleep 1; exit 3');
    await page.locator('.notice.error', { hasText: `${doomed} died with exit code 3` }).waitFor({ timeout: 20_000 });
    expect(await row(doomed).getAttribute('data-state')).toBe('exited');
  });

  it('shows real log output and search finds a line', async () => {
    await row(logger).locator('.name').click();
    // Only the rows in view are drawn, and the engine may order the stdout and stderr bursts
    // either way, so real output is found through the search rather than by what is on screen.
    await page.locator('.log-line').first().waitFor({ timeout: 15_000 });
    await page.getByLabel('Search log').fill('needle-in-the');
    await page.getByLabel('Search log').press('Enter');
    await expect.poll(() => page.locator('.log-line.current').textContent(), { timeout: 15_000 }).toBe('needle-in-the-log');
    expect(await page.locator('.match-count').textContent()).toBe('1/1');
    await page.getByLabel('Search log').fill('line 3 from');
    await page.getByLabel('Search log').press('Enter');
    await expect.poll(() => page.locator('.match-count').textContent()).toBe('1/1');
    await expect.poll(() => page.locator('.log-line.current').textContent()).toBe('line 3 from stdout');
    // stderr is kept apart from stdout (the multiplexed stream's framing) and marked as such.
    await page.getByLabel('Search log').fill('problem 7 on');
    await page.getByLabel('Search log').press('Enter');
    await expect.poll(() => page.locator('.log-line.current').textContent()).toBe('problem 7 on stderr');
    expect(await page.locator('.log-line.current').getAttribute('class')).toContain('stderr');
    await page.getByLabel('Search log').fill('line 3 from');
    await page.getByLabel('Search log').press('Enter');
    await screenshot(page, 'container-logs');
  });

  it('downloads the log, and reopens it from the start with "since"', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    const file = await download.path();
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('needle-in-the-log');
    expect(text).toContain('problem 39 on stderr');
    await page.getByLabel('Since').selectOption('0');
    await page.getByLabel('Search log').fill('line 0 from');
    // The log reopens from the start; once the line is there, step to it.
    await expect.poll(() => page.locator('.match-count').textContent(), { timeout: 15_000 }).toBe('0/1');
    await page.getByLabel('Search log').press('Enter');
    await page.locator('.log-line.current').waitFor({ timeout: 15_000 });
    expect(await page.locator('.log-line.current').textContent()).toBe('line 0 from stdout');
    await page.getByLabel('Since').selectOption('');
  });

  it('keeps the last line in view when the container stops and the end of the stream is noted', async () => {
    // Quiet for a few seconds after its last line, then it exits: the note that the stream ended
    // appears below the list and shrinks it, and the view must stay pinned to the end.
    await docker(engine, 'run', '-d', '--name', finished, engine.image, 'sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo "row $i"; i=$((i+1)); done; echo the-last-line; sleep 3');
    await page.getByRole('button', { name: 'Back to containers' }).click();
    await row(finished).locator('.name').click();
    const lastShown = () => page.evaluate<string>(`(() => {
      const list = document.querySelector('.log-lines');
      const rows = [...list.querySelectorAll('.vrow')].sort((a, b) => Number(a.getAttribute('aria-posinset')) - Number(b.getAttribute('aria-posinset')));
      const last = rows[rows.length - 1];
      const box = list.getBoundingClientRect();
      const r = last.getBoundingClientRect();
      const inView = r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
      return last.getAttribute('aria-posinset') + '/' + last.getAttribute('aria-setsize') + ' ' + last.textContent + (inView ? '' : ' (hidden)');
    })()`);
    await expect.poll(lastShown, { timeout: 15_000 }).toBe('3001/3001 the-last-line');
    expect(await page.locator('.log-end').count()).toBe(0); // still running: the case is the note coming later
    await page.locator('.log-end').waitFor({ timeout: 15_000 });
    await expect.poll(lastShown).toBe('3001/3001 the-last-line');
    await page.getByLabel('Search log').fill('row 2999');
    await page.getByLabel('Search log').press('Enter');
    await expect.poll(() => page.locator('.log-line.current').textContent()).toBe('row 2999');
    await page.getByLabel('Search log').press('Shift+Enter');
    expect(await page.locator('.match-count').textContent()).toBe('1/1');
    await page.getByLabel('Search log').fill('');
  });

  it('runs echo in a terminal and the text appears in the xterm buffer', async () => {
    await page.getByRole('button', { name: 'Back to containers' }).click();
    await row(shell).locator('.name').click();
    await page.getByRole('tab', { name: 'Terminal' }).click();
    await expect.poll(terminalText, { timeout: 15_000 }).toMatch(/[#$] $/m);
    await page.locator('[data-testid=terminal]').click();
    await page.keyboard.type('echo berth-$((6*7))\n');
    await expect.poll(terminalText, { timeout: 15_000 }).toContain('\nberth-42');
    await screenshot(page, 'container-terminal');
  });

  it('opens a second shell in a tab of its own', async () => {
    await page.getByRole('button', { name: 'New shell' }).click();
    await expect.poll(terminalText, { timeout: 15_000 }).toMatch(/[#$] $/m);
    expect(await terminalText()).not.toContain('berth-42'); // a fresh screen, not the first shell's
    await page.locator('.terminal-panel:not([hidden]) [data-testid=terminal]').click();
    await page.keyboard.type('echo second-$((2+3))\n');
    await expect.poll(terminalText, { timeout: 15_000 }).toContain('\nsecond-5');
    await page.getByRole('tab', { name: 'Shell 1' }).click();
    await expect.poll(terminalText).toContain('\nberth-42');
    expect(await terminalText()).not.toContain('second-5');
    await screenshot(page, 'container-terminal-tabs');
  });

  it('attaches to the main process of a container started with -it', async () => {
    await page.getByRole('button', { name: 'Back to containers' }).click();
    await row(attachable).locator('.name').click();
    await page.getByRole('tab', { name: 'Attach' }).click();
    await page.getByText('Attached to the main process').waitFor({ timeout: 15_000 });
    await page.locator('[data-testid=terminal]').click();
    await page.keyboard.type('echo attached-$((3*3))\n');
    await expect.poll(terminalText, { timeout: 15_000 }).toContain('attached-9');
    await screenshot(page, 'container-attach');
    // Leaving the tab detaches: the container keeps running.
    await page.getByRole('tab', { name: 'Logs' }).click();
    expect(await docker(engine, 'inspect', '-f', '{{.State.Status}}', attachable)).toBe('running');
  });

  it('shows inspect and stats for a running container', async () => {
    await page.getByRole('tab', { name: 'Inspect' }).click();
    await expect.poll(() => page.locator('.inspect').textContent(), { timeout: 15_000 }).toContain(`"Name": "/${attachable}"`);
    await screenshot(page, 'container-inspect');
    await page.getByRole('tab', { name: 'Stats' }).click();
    await expect.poll(() => page.locator('.stats .chart').count(), { timeout: 20_000 }).toBe(4);
    // The engine sends a sample a second; wait for a few so the charts have lines.
    await expect.poll(() => page.locator('.chart polyline').first().getAttribute('points'), { timeout: 20_000 }).toMatch(/^\S+ \S+ \S+/);
    await screenshot(page, 'container-stats');
  });

  it('browses the container\'s files and downloads one', async () => {
    await page.getByRole('tab', { name: 'Files' }).click();
    await page.locator('[data-file="/etc"] button').click();
    await page.locator('[data-file="/etc/passwd"]').waitFor({ timeout: 15_000 });
    await screenshot(page, 'container-files');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-file="/etc/passwd"] button').click()]);
    expect(download.suggestedFilename()).toBe('passwd');
    expect(readFileSync(await download.path(), 'utf8')).toContain('root:x:0:0');
  });

  it('lists images with the test image, and shows Activity', async () => {
    await page.getByRole('button', { name: /^Images/ }).click();
    await page.getByLabel('Filter images').fill(engine.image);
    await page.locator(`[data-image="${engine.image}"]`).waitFor({ timeout: 15_000 });
    await screenshot(page, 'images');
    await page.getByRole('button', { name: /^Activity/ }).click();
    await page.locator('section[aria-label="Activity"]').waitFor();
    await screenshot(page, 'activity');
  });

  it('runs a container from the Run dialog with a command and environment', async () => {
    await page.getByRole('button', { name: /^Containers/ }).click();
    await page.getByRole('button', { name: 'Run…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Run a container' });
    await dialog.getByLabel('Image').fill(engine.image);
    await dialog.getByLabel('Name').fill(ran);
    await dialog.getByLabel('Command').fill(`sh -c 'echo "greeting=$GREETING"; sleep 3600'`);
    await dialog.getByLabel('Environment').fill('GREETING=hello from the dialog');
    await screenshot(page, 'run-dialog');
    await dialog.getByRole('button', { name: 'Run', exact: true }).click();
    // The app opens the new container's logs.
    await page.locator('.log-line', { hasText: 'greeting=hello from the dialog' }).waitFor({ timeout: 30_000 });
    expect(await docker(engine, 'inspect', '-f', '{{.State.Status}}', ran)).toBe('running');
  });

  it('refuses a malformed Run field with a sentence, before asking the engine', async () => {
    await page.getByRole('button', { name: /^Containers/ }).click();
    await page.getByRole('button', { name: 'Run…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Run a container' });
    await dialog.getByLabel('Image').fill(engine.image);
    await dialog.getByLabel('Ports').fill('80:http');
    await dialog.getByRole('button', { name: 'Run', exact: true }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toContain('invalid port "80:http"');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  it('shows volumes and networks', async () => {
    await page.getByRole('button', { name: /^Networks/ }).click();
    await page.locator('[data-network="bridge"]').waitFor({ timeout: 15_000 });
    await screenshot(page, 'networks');
    await page.getByRole('button', { name: /^Volumes/ }).click();
    await page.locator('section[aria-label="Volumes"]').waitFor();
    await screenshot(page, 'volumes');
  });

  it('removes several containers at once with the bulk bar', async () => {
    await page.getByRole('button', { name: /^Containers/ }).click();
    await page.getByLabel('Filter containers').fill(run);
    await page.getByLabel(`Select ${ran}`, { exact: true }).check();
    await page.getByLabel(`Select ${doomed}`, { exact: true }).check();
    await expect.poll(() => page.getByRole('toolbar', { name: 'Bulk actions' }).textContent()).toContain('2 selected');
    await screenshot(page, 'containers-bulk');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('toolbar', { name: 'Bulk actions' }).getByRole('button', { name: 'Remove' }).click();
    await expect.poll(() => row(ran).count(), { timeout: 30_000 }).toBe(0);
    await expect.poll(() => row(doomed).count(), { timeout: 30_000 }).toBe(0);
    expect(await docker(engine, 'ps', '-a', '--filter', `name=${ran}`, '--format', '{{.Names}}')).toBe('');
    await expect.poll(() => page.getByRole('toolbar', { name: 'Bulk actions' }).count()).toBe(0);
  });

  it('switches to the dark theme', async () => {
    await page.getByRole('button', { name: /^Containers/ }).click();
    await page.getByLabel('Theme').selectOption('dark');
    await expect.poll(() => page.locator('html').getAttribute('data-theme')).toBe('dark');
    await screenshot(page, 'containers-dark');
  });
});
