// The whole API surface, one table per resource, in match order.
import type { Route } from '../router';
import { systemRoutes } from './system';
import { jobRoutes } from './jobs';

export const allRoutes = (): Route[] => [...systemRoutes, ...jobRoutes];
