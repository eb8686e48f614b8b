// Linux capabilities: Docker's default set for unprivileged containers, and --cap-add/--cap-drop
// on top of it (names with or without CAP_, any case, and ALL).
import { invalidParameter } from '../../errors';

export const ALL_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** What Docker grants a container that asks for nothing. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

function normalise(cap: string, field: 'CapAdd' | 'CapDrop'): string {
  const upper = cap.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!ALL_CAPABILITIES.includes(name)) throw invalidParameter(`invalid ${field}: unknown capability: "${name}"`);
  return name;
}

/** The capability set of a container: privileged gets all; otherwise defaults + add − drop. */
export function capabilitySet(add: string[], drop: string[], privileged: boolean): string[] {
  const adds = add.map((c) => normalise(c, 'CapAdd'));
  const drops = drop.map((c) => normalise(c, 'CapDrop'));
  if (privileged) return [...ALL_CAPABILITIES];
  // Dropping ALL then adding some is the documented way to grant only a few.
  let caps = drops.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c));
  if (adds.includes('ALL')) caps = ALL_CAPABILITIES.filter((c) => !drops.includes(c) || adds.includes(c));
  for (const c of adds) if (c !== 'ALL' && !caps.includes(c)) caps.push(c);
  return caps;
}
