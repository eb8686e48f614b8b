// Every figure `npm run bench` measures, in the order the table prints them.
import type { Figure } from '../harness';
import { systemFigures } from './system';

export const figures: Figure[] = [...systemFigures];
