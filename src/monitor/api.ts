/**
 * The dashboard's live API (LIVE-API.md) as one route table for the
 * monitoring listener: the feed (live.ts), publish and request (publish.ts).
 */
import { liveRoutes } from './live.js';
import { publishRoutes } from './publish.js';
import type { RouteTable } from './route.js';

export function apiRoutes(): RouteTable {
  return { ...liveRoutes(), ...publishRoutes() };
}
