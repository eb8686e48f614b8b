// The cached list summaries against the real store and the real networkdriver (bridges, veths in
// namespaces this test creates, nftables in a table of its own, a published port on loopback):
// every change a container goes through shows in the next list although the list before it was
// served from the cache, and the cached body is always what the uncached items would be.
// Needs root (ip, nft), as berthd does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ContainerStore } from './store';
import { Container, newRecord } from './container';
import { ContainerSummaries } from './summaries';
import { listItem } from './views';
import { setPaused, setRunning, setStopped } from './state';
import { ContainerAttachments } from '../drivers/attachments';
import { NetworkManager } from '../drivers/network/manager';
import { command } from '../drivers/network/command';
import { Logger } from '../log';
import type { HostConfig } from './types';

const root = process.getuid?.() === 0 ? mkdtempSync(path.join(tmpdir(), 'berth-summaries-')) : '';
const tag = randomBytes(2).toString('hex');
const bridgeName = `bsum${tag}`;
const table = `berth_test_sum${tag}`;

let store: ContainerStore;
let network: NetworkManager;
let attachments: ContainerAttachments;
let summaries: ContainerSummaries;
const userBridges: string[] = [];

async function create(name: string, hostConfig: HostConfig = {}, labels: Record<string, string> = {}): Promise<Container> {
  const id = randomBytes(32).toString('hex');
  const config = { Image: 'busybox', Labels: labels, ExposedPorts: { '80/tcp': {} } };
  const c = new Container(newRecord({
    ID: id, Created: new Date().toISOString(), Path: 'sh', Args: ['-c', 'echo "quoted" \\ back'], Image: 'sha256:aa', Name: `/${name}`,
    Driver: 'vfs', Config: config, HostConfig: hostConfig, GraphDriver: { Name: 'vfs', Data: null },
  }));
  await attachments.register({ id, name: `/${name}`, config, hostConfig }, (ref) => ref);
  store.add(c);
  return c;
}

/** The list body as the API sends it, parsed. */
const listed = (list: Container[], now?: number) => JSON.parse(summaries.encode(list, undefined, now).toString()) as Record<string, unknown>[];
/** What the items are without any cache. */
const fresh = (list: Container[], now?: number) => list.map((c) => listItem(c, undefined, attachments, now));

/** Lists `c` (warming the cache), applies `change`, and returns the item before and after it. */
async function across(c: Container, change: () => Promise<void> | void): Promise<{ before: Record<string, unknown>; after: Record<string, unknown> }> {
  const now = Date.now();
  const [before] = listed([c], now);
  expect(listed([c], now)).toEqual([before]); // served from the cache
  await change();
  const [after] = listed([c], now);
  expect([after]).toEqual(fresh([c], now));
  return { before: before!, after: after! };
}

const networks = (item: Record<string, unknown>) => (item.NetworkSettings as { Networks: Record<string, { IPAddress: string }> }).Networks;

describe.skipIf(process.getuid?.() !== 0)('container list summaries, cached', () => {
  beforeAll(async () => {
    store = new ContainerStore(path.join(root, 'containers'));
    network = new NetworkManager({
      dataRoot: path.join(root, 'data'), execRoot: path.join(root, 'exec'), defaultBridge: bridgeName,
      pools: [{ base: '10.233.0.0/16', size: 24 }], firewallTable: table, log: new Logger({ write: () => true }),
    });
    await network.init();
    attachments = new ContainerAttachments(network);
    summaries = new ContainerSummaries(store, attachments);
  });

  afterAll(async () => {
    if (!root) return;
    for (const c of store?.list() ?? []) await network.remove(c.id).catch(() => undefined);
    for (const n of network?.list() ?? []) if (!['bridge', 'host', 'none'].includes(n.Name)) await network.removeNetwork(n.Id).catch(() => undefined);
    await network?.shutdown().catch(() => undefined);
    await command('nft', ['delete', 'table', 'inet', table]);
    for (const l of [bridgeName, ...userBridges]) await command('ip', ['link', 'del', l]);
    rmSync(root, { recursive: true, force: true });
  });

  it('encodes exactly the items listItem builds, sizes included, in the order given', async () => {
    const a = await create('plain', {}, { tier: 'web', 'with "quotes"': 'a\\b', unicode: 'é✓' });
    const b = await create('none', { NetworkMode: 'none' });
    const now = Date.now();
    expect(listed([b, a], now)).toEqual(fresh([b, a], now));
    const sized = JSON.parse(summaries.encode([a, b], [{ rw: 12, rootFs: 34 }, undefined], now).toString()) as Record<string, unknown>[];
    expect(sized).toEqual([listItem(a, { rw: 12, rootFs: 34 }, attachments, now), listItem(b, undefined, attachments, now)]);
    expect(summaries.encode([]).toString()).toBe('[]\n');
  });

  it('shows a start with its published port, a pause, a rename, a network connect and a stop', async () => {
    const c = await create('web', { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } });
    const etc = path.join(root, 'etc', c.id);

    const started = await across(c, async () => {
      await attachments.prepare(c.id, etc, '/');
      setRunning(c.state, 4242);
      store.save(c);
    });
    expect(started.before).toMatchObject({ State: 'created', Status: 'Created', Ports: [] });
    expect(started.after).toMatchObject({ State: 'running', Status: expect.stringMatching(/^Up /) as unknown });
    const published = (started.after.Ports as { PublicPort?: number; IP?: string }[]).find((p) => p.PublicPort);
    expect(published).toMatchObject({ IP: '127.0.0.1', PrivatePort: 80, Type: 'tcp' });
    expect(networks(started.before).bridge!.IPAddress).toBe('');
    expect(networks(started.after).bridge!.IPAddress).toMatch(/^10\.233\./);

    const paused = await across(c, () => {
      setPaused(c.state, true);
      store.save(c);
    });
    expect(paused.after).toMatchObject({ State: 'paused', Status: expect.stringMatching(/\(Paused\)$/) as unknown });

    const renamed = await across(c, () => store.rename(c, 'renamed'));
    expect(renamed.before.Names).toEqual(['/web']);
    expect(renamed.after.Names).toEqual(['/renamed']);

    const { Id } = await network.create({ Name: `sum-${tag}` });
    userBridges.push(`br-${Id.slice(0, 12)}`);
    const connected = await across(c, () => network.connect(c.id, Id, {}));
    expect(Object.keys(networks(connected.before))).toEqual(['bridge']);
    expect(Object.keys(networks(connected.after)).sort()).toEqual(['bridge', `sum-${tag}`]);
    expect(networks(connected.after)[`sum-${tag}`]!.IPAddress).not.toBe('');

    const stopped = await across(c, async () => {
      await attachments.release(c.id);
      setStopped(c.state, { exitCode: 3 });
      store.save(c);
    });
    expect(stopped.after).toMatchObject({ State: 'exited', Status: expect.stringMatching(/^Exited \(3\) /) as unknown, Ports: [] });
    expect(networks(stopped.after).bridge!.IPAddress).toBe('');
  });

  it('a network connect to a stopped container shows too (no event, no address: only the record changes)', async () => {
    const c = await create('idle');
    const { Id } = await network.create({ Name: `idle-${tag}` });
    userBridges.push(`br-${Id.slice(0, 12)}`);
    const connected = await across(c, () => network.connect(c.id, Id, {}));
    expect(Object.keys(networks(connected.after)).sort()).toEqual(['bridge', `idle-${tag}`]);
    const disconnected = await across(c, () => network.disconnect(c.id, Id, false));
    expect(Object.keys(networks(disconnected.after))).toEqual(['bridge']);
  });
});
