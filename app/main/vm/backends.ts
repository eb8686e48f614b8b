// The backend for this host: WSL 2 on Windows, vfkit on macOS when installed (else qemu with HVF),
// qemu elsewhere. BERTH_VM_BACKEND and BERTH_VM_ACCEL override the choice.
import type { Accelerator } from './accelerator.js';
import type { BackendKind, VmBackend } from './backend.js';
import { QemuBackend } from './qemu.js';
import { VfkitBackend } from './vfkit.js';
import { WslBackend } from './wsl.js';

export function backendKindFor(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, vfkitInstalled = true): BackendKind {
  const wanted = env.BERTH_VM_BACKEND;
  if (wanted === 'qemu' || wanted === 'vfkit' || wanted === 'wsl') return wanted;
  if (platform === 'win32') return 'wsl';
  if (platform === 'darwin' && vfkitInstalled) return 'vfkit';
  return 'qemu';
}

export function createBackend(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): VmBackend {
  const accel = env.BERTH_VM_ACCEL as Accelerator | undefined;
  switch (backendKindFor(platform, env)) {
    case 'wsl': return new WslBackend();
    case 'vfkit': return new VfkitBackend(env.BERTH_VFKIT ?? 'vfkit');
    default: return new QemuBackend({ binary: env.BERTH_QEMU, accelerator: accel });
  }
}
