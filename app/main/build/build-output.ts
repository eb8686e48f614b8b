// Turns the classic builder's progress lines into terminal text, and remembers what the build
// made: `stream` is the log as it is; `aux.ID` names the image; `error` (with `errorDetail`) ends
// the build; `status` lines come from pulling a base image (FROM, --pull) and are shown once per
// layer and status, without the byte-by-byte progress bars.
import type { BuildMessage } from '../engine/engine-client.js';

const RED = '\x1b[31m';
const RESET = '\x1b[0m';

export class BuildOutput {
  /** The image built, from `aux.ID` (or, from engines that send none, "Successfully built"). */
  imageId?: string;
  /** dockerd's error message, when the build failed. */
  error?: string;
  private readonly statuses = new Map<string, string>();

  /** The text one message adds to the log ('' when it adds nothing). */
  apply(m: BuildMessage): string {
    if (m.aux?.ID) {
      this.imageId = m.aux.ID;
      return '';
    }
    if (m.error !== undefined || m.errorDetail?.message !== undefined) {
      this.error = m.errorDetail?.message || m.error || 'the build failed';
      return `${RED}${this.error}${RESET}\n`;
    }
    if (typeof m.stream === 'string') {
      const built = /^Successfully built ([0-9a-f]{12,64})\s*$/m.exec(m.stream);
      if (built && !this.imageId) this.imageId = built[1];
      return m.stream;
    }
    if (m.status) {
      if (!m.id) return `${m.status}\n`;
      if (this.statuses.get(m.id) === m.status) return '';
      this.statuses.set(m.id, m.status);
      return `${m.id}: ${m.status}\n`;
    }
    return '';
  }
}

/** docker's HumanSize: four significant digits and decimal units ("2.048kB", "12.29MB"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < units.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${Number(size.toPrecision(4))}${units[unit]}`;
}
