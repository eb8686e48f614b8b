import { describe, expect, it } from 'vitest';
import { imageFromDir, vmPaths, type VmConfig } from './config.js';
import { vfkitArgs, vfkitStateRequest } from './vfkit.js';

const config: VmConfig = {
  name: 'default', stateDir: '/Users/ann/Library/Application Support/Berth/vm', image: imageFromDir('/Applications/Berth.app/Contents/Resources/vm'),
  resources: { cpus: 4, memoryMiB: 4096, diskGiB: 64 }, shares: ['/Users/ann'], stopTimeoutSec: 10, bootTimeoutSec: 60,
};
const paths = vmPaths(config.stateDir);
const devices = (args: string[]) => args.filter((_, i) => args[i - 1] === '--device');

describe('vfkit command line', () => {
  const args = vfkitArgs(config, paths);

  it('boots our kernel and initrd with the command line quoted as vfkit wants', () => {
    expect(args.slice(0, 4)).toEqual(['--cpus', '4', '--memory', '4096']);
    const boot = args[args.indexOf('--bootloader') + 1]!;
    expect(boot).toMatch(/^linux,kernel=\/Applications\/Berth\.app\/Contents\/Resources\/vm\/vmlinux,initrd=\/Applications\/Berth\.app\/Contents\/Resources\/vm\/initrd\.img,cmdline="[^"]+"$/);
    const cmdline = /cmdline="([^"]+)"/.exec(boot)![1]!;
    expect(cmdline.split(' ')).toEqual(expect.arrayContaining(['console=hvc0', 'berth.net=dhcp', 'berth.api=vsock:2375', 'berth.control=vsock:1025', 'berth.share=share0:/Users/ann']));
    expect(cmdline).not.toContain('tsc_early_khz');
  });

  it('names the disks by deviceId, serves the API and control over vsock, and shares with virtio-fs', () => {
    expect(devices(args)).toEqual([
      'virtio-blk,path=/Applications/Berth.app/Contents/Resources/vm/rootfs.img,deviceId=berth-root',
      `virtio-blk,path=${config.stateDir}/data.img,deviceId=berth-data`,
      'virtio-net,nat',
      'virtio-rng',
      `virtio-serial,logFilePath=${config.stateDir}/console.log`,
      `virtio-vsock,port=2375,socketURL=${config.stateDir}/docker.sock,connect`,
      `virtio-vsock,port=1025,socketURL=${config.stateDir}/control.sock,connect`,
      'virtio-fs,sharedDir=/Users/ann,mountTag=share0',
    ]);
    expect(args.slice(-2)).toEqual(['--restful-uri', `unix://${config.stateDir}/vfkit.sock`]);
  });

  it('refuses paths vfkit cannot parse', () => {
    expect(() => vfkitArgs({ ...config, shares: ['/Users/ann/a,b'] }, paths)).toThrow(/comma or a quote/);
  });

  it('stops through the REST API', () => {
    expect(vfkitStateRequest('Stop')).toEqual({ method: 'POST', path: '/vm/state', body: '{"state":"Stop"}' });
    expect(JSON.parse(vfkitStateRequest('HardStop').body)).toEqual({ state: 'HardStop' });
  });
});
