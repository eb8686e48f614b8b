// Container names: validated as dockerd validates them, stored with a leading slash, and generated
// as `adjective_noun` when the client gives none.
import { randomInt } from 'node:crypto';
import { invalidParameter } from '../errors';

const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Returns the canonical form ("/name") or throws dockerd's 400. */
export function validateName(name: string): string {
  if (!VALID_NAME.test(name)) {
    throw invalidParameter(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.startsWith('/') ? name : `/${name}`;
}

// Our own lists: a ship's vocabulary, in keeping with the name of the project.
const ADJECTIVES = [
  'agile', 'amber', 'bold', 'brave', 'brisk', 'calm', 'clever', 'crisp', 'daring', 'deft', 'eager', 'fair', 'fleet',
  'gentle', 'glad', 'golden', 'hardy', 'hearty', 'jolly', 'keen', 'kind', 'lively', 'lucid', 'merry', 'mighty',
  'nimble', 'noble', 'plucky', 'proud', 'quick', 'quiet', 'rapid', 'ready', 'sage', 'serene', 'sharp', 'silent',
  'sleek', 'snug', 'spry', 'stalwart', 'steady', 'stout', 'sturdy', 'swift', 'tidy', 'trusty', 'vivid', 'wise', 'zesty',
];
const NOUNS = [
  'anchor', 'ballast', 'beacon', 'bollard', 'bosun', 'bow', 'bulwark', 'buoy', 'cabin', 'capstan', 'cargo', 'compass',
  'corsair', 'cutter', 'dinghy', 'dory', 'ferry', 'frigate', 'galley', 'gangway', 'harbor', 'hawser', 'helm', 'hull',
  'jetty', 'keel', 'ketch', 'lantern', 'lighthouse', 'mast', 'mooring', 'navigator', 'pier', 'pilot', 'quay', 'rudder',
  'schooner', 'sextant', 'skiff', 'sloop', 'spinnaker', 'starboard', 'steward', 'tide', 'tiller', 'trawler', 'wharf',
  'windlass', 'yacht', 'yawl',
];

/** A random `adjective_noun`; after a few collisions a digit is appended, as dockerd does. */
export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; attempt < 10; attempt++) {
    const base = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NOUNS[randomInt(NOUNS.length)]}`;
    const name = attempt < 3 ? base : `${base}${randomInt(10)}`;
    if (!taken(`/${name}`)) return `/${name}`;
  }
  for (;;) {
    const name = `/${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NOUNS[randomInt(NOUNS.length)]}${randomInt(1_000_000)}`;
    if (!taken(name)) return name;
  }
}
