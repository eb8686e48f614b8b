import { describe, expect, it } from 'vitest';
import { compareVersions, splitVersion } from './version';
import { EngineError } from '../errors';

describe('API versions', () => {
  it('compares dotted versions numerically, not as strings', () => {
    expect(compareVersions('1.9', '1.10')).toBe(-1);
    expect(compareVersions('1.51', '1.51')).toBe(0);
    expect(compareVersions('1.51', '1.24')).toBe(1);
  });

  it('serves unversioned paths at the current version', () => {
    expect(splitVersion('/containers/json')).toEqual({ version: '1.51', path: '/containers/json' });
  });

  it('strips a supported version prefix', () => {
    expect(splitVersion('/v1.24/info')).toEqual({ version: '1.24', path: '/info' });
    expect(splitVersion('/v1.51/_ping')).toEqual({ version: '1.51', path: '/_ping' });
  });

  it("refuses versions outside 1.24–1.51 with dockerd's words and a 400", () => {
    const tooNew = (() => { try { splitVersion('/v1.52/info'); } catch (e) { return e; } })() as EngineError;
    expect(tooNew.status).toBe(400);
    expect(tooNew.message).toBe('client version 1.52 is too new. Maximum supported API version is 1.51');
    const tooOld = (() => { try { splitVersion('/v1.23/info'); } catch (e) { return e; } })() as EngineError;
    expect(tooOld.status).toBe(400);
    expect(tooOld.message).toBe('client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version');
  });
});
