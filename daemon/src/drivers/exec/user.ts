// `User` ("name", "uid", "name:group", "uid:gid") resolved against the container's own /etc/passwd
// and /etc/group, as runc's libcontainer/user does for dockerd: names must exist, numbers need not.
import { invalidParameter } from '../../errors';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** The home directory, for HOME when the image sets none. */
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 4 || f[0]!.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5] ?? '/' });
  }
  return out;
}

function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 3 || f[0]!.startsWith('#')) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, gid, members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

const isId = (s: string) => /^\d+$/.test(s);

/**
 * Resolves `user` (empty: root) and the extra groups of `groupAdd`. `passwd`/`group` are the
 * files' contents, or undefined when the image has none.
 */
export function resolveUser(user: string, groupAdd: string[], passwd: string | undefined, group: string | undefined): ResolvedUser {
  const users = parsePasswd(passwd ?? '');
  const groups = parseGroup(group ?? '');
  const [userPart = '', groupPart] = (user || '0').split(':', 2);
  let uid: number;
  let gid: number;
  let home = '/';
  let name: string | undefined;
  const byName = users.find((u) => u.name === userPart);
  if (byName) {
    ({ uid, gid, home, name } = byName);
  } else if (isId(userPart)) {
    uid = Number(userPart);
    const byUid = users.find((u) => u.uid === uid);
    gid = byUid?.gid ?? 0;
    home = byUid?.home ?? '/';
    name = byUid?.name;
  } else {
    throw invalidParameter(`unable to find user ${userPart}: no matching entries in passwd file`);
  }
  if (groupPart !== undefined && groupPart !== '') {
    const g = groups.find((x) => x.name === groupPart);
    if (g) gid = g.gid;
    else if (isId(groupPart)) gid = Number(groupPart);
    else throw invalidParameter(`unable to find group ${groupPart}: no matching entries in group file`);
  }
  const additional = new Set<number>();
  // Supplementary groups from /etc/group, only when no group was named (as libcontainer does).
  if (name !== undefined && (groupPart === undefined || groupPart === '')) {
    for (const g of groups) if (g.members.includes(name)) additional.add(g.gid);
  }
  for (const extra of groupAdd) {
    const g = groups.find((x) => x.name === extra);
    if (g) additional.add(g.gid);
    else if (isId(extra)) additional.add(Number(extra));
    else throw invalidParameter(`Unable to find group ${extra}: no matching entries in group file`);
  }
  additional.delete(gid);
  return { uid, gid, additionalGids: [gid, ...additional], home };
}
