// What to tell a person whose VM did not start: the console's last lines and qemu's own words
// matched against the failures we know, each with what to try. The app shows this instead of an
// endless spinner; `berth vm start` prints it.
export interface Diagnosis {
  problem: string;
  tryThis: string;
}

const KNOWN: { pattern: RegExp; problem: string; tryThis: string }[] = [
  { pattern: /no disk with serial 'berth-root'/, problem: 'the VM booted without its root image', tryThis: 'rebuild the image with "npm run build:vm" and start again' },
  { pattern: /cannot mount the root (image|overlay)/, problem: 'the root image is damaged or was built for another kernel', tryThis: 'rebuild the image with "npm run build:vm"' },
  { pattern: /cannot mount the data disk|data disk needs a check/, problem: 'the data disk could not be mounted cleanly', tryThis: 'restart the VM; if it persists, reset it (this deletes images, containers and volumes)' },
  { pattern: /berthd exited \(status/, problem: 'berthd stopped inside the VM', tryThis: 'read the berthd lines of the console log above; restart the VM' },
  { pattern: /Could not access KVM kernel module|failed to initialize kvm|KVM: entry failed/i, problem: 'the hardware accelerator is not usable', tryThis: 'start with BERTH_VM_ACCEL=tcg (slower, always works)' },
  { pattern: /Failed to get "write" lock|Is another process using the image/, problem: 'another VM is using this data disk', tryThis: 'stop the other VM ("berth vm stop"), or end the qemu process that holds the disk' },
  { pattern: /Could not set up host forwarding rule/, problem: 'a host port the VM needs is taken by another program', tryThis: 'stop the program using the port, or start the VM again to pick another one' },
  { pattern: /could not open|Could not open '([^']+)'/i, problem: 'qemu could not open one of the VM\'s files', tryThis: 'check that the image directory and the VM\'s state directory exist and are readable' },
  { pattern: /Kernel panic/, problem: 'the guest kernel panicked during boot', tryThis: 'rebuild the image with "npm run build:vm"; report the console log if it persists' },
];

export function diagnose(consoleTail: string[], processOutput = ''): Diagnosis | undefined {
  const text = `${consoleTail.join('\n')}\n${processOutput}`;
  for (const k of KNOWN) if (k.pattern.test(text)) return { problem: k.problem, tryThis: k.tryThis };
  return undefined;
}
