// The image browser in Chromium: an image's layers with their instructions and sizes, and on
// berthd each layer's files marked added / modified / removed (the whiteout fixture: layer 2 adds
// files under /data, layer 3 deletes one, adds one and makes /data/dir opaque).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ensureFixtures } from '../fixtures/fixtures';
import { docker, uniqueName, screenshot, startTestEngine, type Browser, type TestEngine, type WebMode, engineChoice, openApp } from './harness';

let engine: TestEngine;
let web: WebMode;
let browser: Browser;
let page: Page;
const image = 'whiteout:latest';
const newTag = `${uniqueName('retagged')}:v1`;

beforeAll(async () => {
  engine = await startTestEngine();
  const fixtures = await ensureFixtures();
  await docker(engine, 'load', '-i', fixtures.whiteout.dockerArchive);
  ({ web, browser, page } = await openApp(engine.endpoint));
}, 300_000);

afterAll(async () => {
  if (engine) await docker(engine, 'rmi', newTag).catch(() => undefined);
  await browser?.close();
  await web?.stop();
  await engine?.stop();
});

const entry = (path: string) => page.locator(`[data-entry="${path}"]`);

describe(`image browser against ${engineChoice}`, () => {
  it('lists the layers bottom first with the instruction that made each', async () => {
    await page.getByRole('button', { name: /^Images/ }).click();
    await page.getByLabel('Filter images').fill(image);
    await page.locator(`[data-image="${image}"] .name`).click();
    await page.locator('.layer').nth(2).waitFor({ timeout: 15_000 });
    expect(await page.locator('.layer').count()).toBe(3);
    const instructions = await page.locator('.layer-instruction').allTextContents();
    expect(instructions.every((t) => t.length > 0)).toBe(true);
    await screenshot(page, `image-layers-${engine.kind}`);
  });

  it('shows what each layer added, changed and removed (berthd), or says the engine cannot', async () => {
    if (engine.kind !== 'berthd') {
      await page.getByText('reports each layer\'s history but not its files').waitFor();
      return;
    }
    // Layer 2 added /data and its files.
    await page.locator('.layer[data-layer="1"]').click();
    await entry('/data').locator('button').click();
    await expect.poll(() => entry('/data/kept.txt').getAttribute('data-change'), { timeout: 15_000 }).toBe('added');
    expect(await entry('/data/deleted.txt').getAttribute('data-change')).toBe('added');
    // Layer 3, in the same directory: a deletion, an addition, and kept.txt unchanged from below.
    await page.locator('.layer[data-layer="2"]').click();
    await expect.poll(() => entry('/data/deleted.txt').getAttribute('data-change'), { timeout: 15_000 }).toBe('removed');
    expect(await entry('/data/added.txt').getAttribute('data-change')).toBe('added');
    expect(await entry('/data/kept.txt').getAttribute('data-change')).toBe('none');
    await screenshot(page, 'image-tree-layer3');
    // Only this layer's changes: kept.txt goes, the changes stay.
    await page.getByLabel('Only this layer\'s changes').check();
    await expect.poll(() => entry('/data/kept.txt').count()).toBe(0);
    expect(await entry('/data/added.txt').count()).toBe(1);
  });

  it('tags the image from its page', async () => {
    await page.getByLabel('New tag').fill(newTag);
    await page.getByRole('button', { name: 'Tag', exact: true }).click();
    await page.locator('.notice', { hasText: `Tagged ${image} as ${newTag}` }).waitFor({ timeout: 15_000 });
    expect(await docker(engine, 'image', 'inspect', '-f', '{{.Id}}', newTag)).toBe(await docker(engine, 'image', 'inspect', '-f', '{{.Id}}', image));
  });
});
