import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ContainerStore, RECORD_FILE } from './store';
import { Container, newRecord } from './container';
import { EngineError } from '../errors';

const newId = () => randomBytes(32).toString('hex');
const make = (name: string, id = newId()) =>
  new Container(newRecord({ ID: id, Created: new Date().toISOString(), Path: 'sh', Args: [], Image: 'sha256:x', Name: name, Driver: 'vfs', Config: {}, HostConfig: {}, GraphDriver: { Name: 'vfs', Data: null } }));

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'berth-store-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('ContainerStore', () => {
  it('persists records atomically and loads them back in a new store', () => {
    const store = new ContainerStore(root);
    const c = make('/web');
    store.add(c);
    c.record.State.ExitCode = 3;
    store.save(c);
    expect(readdirSync(store.dir(c.id))).toEqual([RECORD_FILE]);
    const again = new ContainerStore(root);
    again.load();
    expect(again.get('web').record.State.ExitCode).toBe(3);
    expect(JSON.parse(readFileSync(path.join(root, c.id, RECORD_FILE), 'utf8')).Name).toBe('/web');
  });

  it('refuses a name in use with dockerd 409 and its sentence', () => {
    const store = new ContainerStore(root);
    const first = make('/x');
    store.add(first);
    let caught: unknown;
    try {
      store.add(make('/x'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EngineError);
    expect((caught as EngineError).status).toBe(409);
    expect((caught as EngineError).message).toBe(
      `Conflict. The container name "/x" is already in use by container "${first.id}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
    expect(store.size).toBe(1);
  });

  it('resolves full id, name with or without slash, and unique prefixes; ambiguous prefixes are errors', () => {
    const store = new ContainerStore(root);
    const a = make('/alpha', 'abc1' + '0'.repeat(60));
    const b = make('/beta', 'abc2' + '0'.repeat(60));
    store.add(a);
    store.add(b);
    expect(store.get(a.id)).toBe(a);
    expect(store.get('/beta')).toBe(b);
    expect(store.get('beta')).toBe(b);
    expect(store.get('abc1')).toBe(a);
    expect(() => store.get('abc')).toThrow(/multiple IDs found with provided prefix: abc/);
    expect(() => store.get('nope')).toThrow('No such container: nope');
  });

  it('renames, frees the old name, and refuses a taken or invalid one', () => {
    const store = new ContainerStore(root);
    const a = make('/one');
    const b = make('/two');
    store.add(a);
    store.add(b);
    store.rename(a, 'three');
    expect(store.find('one')).toBeUndefined();
    expect(store.get('three')).toBe(a);
    expect(() => store.rename(a, 'two')).toThrow(/already in use/);
    expect(() => store.rename(a, 'bad name')).toThrow('Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    store.add(make('/one'));
    expect(new ContainerStore(root).load().map((c) => c.record.Name).sort()).toEqual(['/one', '/three', '/two']);
  });

  it('removes the directory with the container', () => {
    const store = new ContainerStore(root);
    const c = make('/gone');
    store.add(c);
    store.remove(c);
    expect(existsSync(store.dir(c.id))).toBe(false);
    expect(store.find('gone')).toBeUndefined();
  });
});
