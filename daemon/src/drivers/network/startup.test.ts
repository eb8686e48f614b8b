// Start-up of the networkdriver while berthd already serves: the bring-up runs in the driver's
// queue, the containers' live restore does not wait for it, and a failed bring-up makes every later
// operation refuse with its reason. Needs root (ip, nft), as berthd does.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NetworkManager } from './manager';
import { Logger } from '../../log';
import { statusOf } from '../../errors';

const tag = randomBytes(2).toString('hex');
const root = mkdtempSync(path.join(tmpdir(), 'berth-net-startup-'));
const quiet = new Logger({ write: () => true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

function manager(name: string, bridge: string): NetworkManager {
  return new NetworkManager({
    dataRoot: path.join(root, name, 'data'),
    execRoot: path.join(root, name, 'exec'),
    defaultBridge: bridge,
    pools: [{ base: '10.233.0.0/16', size: 24 }],
    firewallTable: `berth_startup_${tag}`,
    resolvConf: path.join(root, 'resolv.conf'),
    log: quiet,
    publish: () => undefined,
  });
}

describe('networkdriver start-up', () => {
  it('lets the live restore return before the bridges are up, and keeps its place in the queue', async () => {
    const m = manager('ok', `bstart${tag}`);
    const done: string[] = [];
    const init = m.init().then(() => done.push('init'));
    await m.restore(new Set());
    done.push('restore returned');
    await init;
    expect(done).toEqual(['restore returned', 'init']);
    // queued behind the bring-up and the restore: sees the default bridge
    expect((await m.create({ Name: `after-${tag}` })).Id).toMatch(/^[0-9a-f]{64}$/);
    expect(m.list().map((n) => n.Name)).toEqual(expect.arrayContaining(['bridge', 'host', 'none', `after-${tag}`]));
    await m.shutdown();
  });

  it('refuses every later operation with the reason when the bring-up failed', async () => {
    // longer than a Linux interface name may be: ip refuses to create the bridge
    const m = manager('broken', `too-long-a-bridge-name-${tag}`);
    const init = m.init();
    const queued = m.create({ Name: 'queued' });
    await expect(init).rejects.toThrow();
    const err = await queued.catch((e: unknown) => e as Error);
    expect(statusOf(err)).toBe(503);
    expect((err as Error).message).toMatch(/^networking is unavailable on this host: /);
    await expect(m.restore(new Set())).rejects.toThrow(/networking is unavailable/);
  });
});
