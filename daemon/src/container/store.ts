// The container store: one directory per container under <data-root>/containers/<id>/, whose
// config.v2.json is written atomically and is the truth; the maps here are a cache of it. Names
// are unique, and a reference resolves as dockerd resolves it: full id, then name, then id prefix.
// A create reserves its id and name before it awaits anything, so concurrent creates never pick
// the same name; the reservation becomes the container at add() or is released on failure.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Container, type ContainerRecord } from './container';
import { conflict, invalidParameter, notFound } from '../errors';
import { validateName } from './names';
import { writeFileAtomicSync } from '../atomic-file';

export const RECORD_FILE = 'config.v2.json';


export class ContainerStore {
  private readonly byId = new Map<string, Container>();
  /** Name → id, for containers and for the reservations of creates under way. */
  private readonly byName = new Map<string, string>();
  /** Ids reserved by creates under way (not yet in byId). */
  private readonly reserved = new Set<string>();
  /**
   * Saves per container: every change of a record that matters is saved, so the count tells views
   * cached per container (the list of `docker ps`) when theirs went stale.
   */
  private readonly saves = new Map<string, number>();

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true, mode: 0o710 });
  }

  /** Reads every container from disk; a directory without a readable record is skipped and reported. */
  load(onError: (id: string, err: unknown) => void = () => undefined): Container[] {
    for (const id of readdirSync(this.root)) {
      if (!/^[0-9a-f]{64}$/.test(id)) continue;
      try {
        const record = JSON.parse(readFileSync(path.join(this.root, id, RECORD_FILE), 'utf8')) as ContainerRecord;
        const container = new Container(record);
        this.byId.set(id, container);
        this.byName.set(record.Name, id);
      } catch (err) {
        onError(id, err);
      }
    }
    return this.list();
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  list(): Container[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  nameTaken(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * Reserves a fresh id and a name for a container being created: `name` (canonical) when given,
   * else a generated one. Throws dockerd's 409 when the name is in use or reserved. Synchronous,
   * so the check and the claim cannot interleave with another create.
   */
  reserve(name: string | undefined, generate: (taken: (name: string) => boolean) => string): { id: string; name: string } {
    let id: string;
    do id = randomBytes(32).toString('hex');
    while (this.byId.has(id) || this.reserved.has(id));
    const chosen = name ?? generate((n) => this.byName.has(n));
    this.claimName(chosen, id);
    this.reserved.add(id);
    return { id, name: chosen };
  }

  /** Gives back what reserve() took, unless a container was added under it. */
  release(reservation: { id: string; name: string }): void {
    if (!this.reserved.delete(reservation.id)) return;
    if (this.byName.get(reservation.name) === reservation.id) this.byName.delete(reservation.name);
  }

  /** Reservations of creates under way (tests check none is left behind). */
  get reservations(): number {
    return this.reserved.size;
  }

  /** Adds a new container (name already canonical, usually reserved) and writes its record. */
  add(container: Container): void {
    this.claimName(container.record.Name, container.id);
    mkdirSync(this.dir(container.id), { recursive: true, mode: 0o710 });
    this.byId.set(container.id, container);
    try {
      this.save(container);
    } catch (err) {
      this.byId.delete(container.id);
      if (!this.reserved.has(container.id)) this.byName.delete(container.record.Name);
      throw err;
    }
    this.reserved.delete(container.id);
  }

  /**
   * Writes the record atomically. `durable: false` skips the fsyncs for a change of running state
   * (started, exited) on the hot path: after a power cut nothing runs anyway, and the next start
   * reconciles the state it reads (old or new, never torn) with the shims it finds.
   */
  save(container: Container, { durable = true }: { durable?: boolean } = {}): void {
    this.saves.set(container.id, (this.saves.get(container.id) ?? 0) + 1);
    writeFileAtomicSync(path.join(this.dir(container.id), RECORD_FILE), JSON.stringify(container.record), { durable });
  }

  /** Forgets the container and deletes its directory (the caller has released its rootfs). */
  remove(container: Container): void {
    this.byId.delete(container.id);
    this.saves.delete(container.id);
    if (this.byName.get(container.record.Name) === container.id) this.byName.delete(container.record.Name);
    rmSync(this.dir(container.id), { recursive: true, force: true });
  }

  rename(container: Container, newName: string): void {
    const name = validateName(newName);
    if (name === container.record.Name) throw invalidParameter(`Renaming a container with the same name as its current name`);
    this.claimName(name, container.id);
    const old = container.record.Name;
    container.record.Name = name;
    try {
      this.save(container);
    } catch (err) {
      container.record.Name = old;
      this.byName.delete(name);
      throw err;
    }
    this.byName.delete(old);
  }

  /** Grows with every save of the container's record. */
  revision(container: Container): number {
    return this.saves.get(container.id) ?? 0;
  }

  /** Full id, then name (with or without its slash), then a unique id prefix; dockerd's 404 otherwise. */
  get(ref: string): Container {
    const found = this.find(ref);
    if (!found) throw notFound(`No such container: ${ref}`);
    return found;
  }

  find(ref: string): Container | undefined {
    if (ref === '') return undefined;
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const byName = this.byName.get(ref.startsWith('/') ? ref : `/${ref}`);
    if (byName) return this.byId.get(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    let match: Container | undefined;
    for (const [id, c] of this.byId) {
      if (!id.startsWith(ref)) continue;
      if (match) throw invalidParameter(`multiple IDs found with provided prefix: ${ref}`);
      match = c;
    }
    return match;
  }

  private claimName(name: string, id: string): void {
    const holder = this.byName.get(name);
    if (holder && holder !== id) {
      throw conflict(`Conflict. The container name "${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    this.byName.set(name, id);
  }
}
