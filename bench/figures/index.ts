// Every figure `npm run bench` measures, in the order the table prints them.
import type { Figure } from '../harness';
import { systemFigures } from './system';
import { vmFigures } from './vm';
import { imageFigures } from './images';
import { distributionFigures } from './distribution';
import { containerFigures } from './containers';
import { networkFigures } from './network';
import { buildFigures } from './build';
import { appFigures } from './app';

export const figures: Figure[] = [...systemFigures, ...imageFigures, ...containerFigures, ...distributionFigures, ...networkFigures, ...buildFigures, ...vmFigures, ...appFigures];
