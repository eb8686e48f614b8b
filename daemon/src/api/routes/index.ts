// The whole API surface, one table per resource, in match order.
import type { Route } from '../router';
import { systemRoutes } from './system';
import { jobRoutes } from './jobs';
import { buildRoutes } from './build';
import { networkRoutes } from './networks';
import { volumeRoutes } from './volumes';
import { imageRoutes } from './images';
import { distributionRoutes } from './distribution';
import { containerRoutes } from './containers';
import { execRoutes } from './exec';

// Distribution's POST /images/create comes first and hands imports (fromSrc) to the image routes.
const importRoute = imageRoutes.find((r) => r.method === 'POST' && r.path === '/images/create');

export const allRoutes = (): Route[] => [...systemRoutes, ...distributionRoutes(importRoute?.handler), ...imageRoutes, ...containerRoutes, ...execRoutes, ...networkRoutes, ...volumeRoutes, ...buildRoutes, ...jobRoutes];
