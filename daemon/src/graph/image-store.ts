// Images by id: one small record per image (<root>/images/<hex>.json) naming its config blob and
// layer blobs. Configs themselves are blobs in the content store. Records load at start; the
// directory is the truth, the map a cache.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Digest, ImageConfig, ImageRecord, ImageStore, Provider } from './interfaces';
import { hexOf } from './content-store';
import { writeFileAtomic } from '../atomic-file';
import { systemError } from '../errors';

export class FileImageStore implements ImageStore {
  private readonly dir: string;
  private readonly records = new Map<Digest, ImageRecord>();
  private readonly configs = new Map<Digest, ImageConfig>();

  constructor(root: string, private readonly content: Provider) {
    this.dir = path.join(root, 'images');
    mkdirSync(this.dir, { recursive: true });
    for (const name of readdirSync(this.dir)) {
      const file = path.join(this.dir, name);
      if (!name.endsWith('.json')) {
        rmSync(file, { force: true }); // a temporary file a crash left
        continue;
      }
      try {
        const record = JSON.parse(readFileSync(file, 'utf8')) as ImageRecord;
        this.records.set(record.id, record);
      } catch {
        rmSync(file, { force: true });
      }
    }
  }

  get(id: Digest): ImageRecord | undefined {
    return this.records.get(id);
  }

  list(): ImageRecord[] {
    return [...this.records.values()];
  }

  async config(id: Digest): Promise<ImageConfig> {
    const cached = this.configs.get(id);
    if (cached) return cached;
    try {
      const config = JSON.parse(readFileSync(this.content.path(id), 'utf8')) as ImageConfig;
      this.configs.set(id, config);
      return config;
    } catch (err) {
      throw systemError(`the config of image ${id} cannot be read: ${(err as Error).message}`, err);
    }
  }

  async put(record: ImageRecord): Promise<void> {
    await writeFileAtomic(path.join(this.dir, `${hexOf(record.id)}.json`), JSON.stringify(record));
    this.records.set(record.id, record);
  }

  async delete(id: Digest): Promise<void> {
    await rm(path.join(this.dir, `${hexOf(id)}.json`), { force: true });
    this.records.delete(id);
    this.configs.delete(id);
  }
}
