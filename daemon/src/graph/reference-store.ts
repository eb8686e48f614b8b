// References (tags and digests) → image ids, kept in one JSON file rewritten atomically.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Digest, Reference, ReferenceStore } from './interfaces';
import { parseReference } from './reference';
import { writeFileAtomic } from '../atomic-file';

export class FileReferenceStore implements ReferenceStore {
  private readonly file: string;
  private readonly refs = new Map<string, { ref: Reference; id: Digest }>();
  /** Serialises writes so two concurrent tags never lose one another. */
  private writing: Promise<void> = Promise.resolve();

  constructor(root: string) {
    this.file = path.join(root, 'references.json');
    let saved: Record<string, Digest> = {};
    try {
      saved = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, Digest>;
    } catch {
      saved = {};
    }
    for (const [full, id] of Object.entries(saved)) {
      try {
        const ref = parseReference(full, null);
        this.refs.set(ref.full, { ref, id });
      } catch {
        // A reference that no longer parses is dropped.
      }
    }
  }

  get(ref: Reference): Digest | undefined {
    return this.refs.get(ref.full)?.id;
  }

  async add(ref: Reference, id: Digest): Promise<void> {
    this.refs.set(ref.full, { ref, id });
    await this.save();
  }

  async remove(ref: Reference): Promise<void> {
    this.refs.delete(ref.full);
    await this.save();
  }

  referencesOf(id: Digest): Reference[] {
    return [...this.refs.values()].filter((r) => r.id === id).map((r) => r.ref);
  }

  all(): { ref: Reference; id: Digest }[] {
    return [...this.refs.values()];
  }

  private save(): Promise<void> {
    const next = this.writing.then(() => {
      const data = Object.fromEntries([...this.refs.values()].map((r) => [r.ref.full, r.id]));
      return writeFileAtomic(this.file, JSON.stringify(data, null, 1));
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
}
