import { describe, expect, it } from 'vitest';
import { diagnose } from './diagnosis.js';

describe('boot failure diagnosis', () => {
  it('names known failures from the console and from qemu', () => {
    expect(diagnose(["berth-stage1: no disk with serial 'berth-root' (the root image is not attached)"])?.tryThis).toMatch(/npm run build:vm/);
    expect(diagnose(['berth-init: 3.1 berthd exited (status 1); restarting'])?.problem).toBe('berthd stopped inside the VM');
    expect(diagnose([], 'qemu-system-x86_64: -drive id=data: Failed to get "write" lock\nIs another process using the image [/s/data.img]?')?.problem).toBe('another VM is using this data disk');
    expect(diagnose([], 'qemu-system-x86_64: Could not access KVM kernel module: No such file or directory')?.tryThis).toMatch(/BERTH_VM_ACCEL=tcg/);
  });

  it('says nothing rather than guessing', () => {
    expect(diagnose(['berth-init: 2.2 init', 'berth-init: 2.5 network 10.0.2.15/24'])).toBeUndefined();
  });
});
