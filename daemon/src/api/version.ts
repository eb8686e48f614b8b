// API versions: berthd serves 1.24 to 1.51, as dockerd 28 does. A path may carry `/vX.Y`; without
// it the request is served at the current version.
import { invalidParameter } from '../errors';
import { API_VERSION, MIN_API_VERSION } from '../version';

export { API_VERSION, MIN_API_VERSION };

/** Compares dotted versions numerically: -1, 0 or 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export const versionAtLeast = (v: string, min: string): boolean => compareVersions(v, min) >= 0;

/** Splits `/v1.43/containers/json` into the version and the route path. */
export function splitVersion(pathname: string): { version: string; path: string } {
  const m = /^\/v([0-9]+(?:\.[0-9]+)*)(\/.*)?$/.exec(pathname);
  if (!m) return { version: API_VERSION, path: pathname };
  const version = m[1]!;
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw invalidParameter(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  if (compareVersions(version, API_VERSION) > 0) {
    throw invalidParameter(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  return { version, path: m[2] ?? '/' };
}
