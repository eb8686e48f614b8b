// The whole API surface, one table per resource, in match order.
import type { Route } from '../router';
import { systemRoutes } from './system';
import { jobRoutes } from './jobs';
import { imageRoutes } from './images';

export const allRoutes = (): Route[] => [...systemRoutes, ...imageRoutes, ...jobRoutes];
