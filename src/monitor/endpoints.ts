/**
 * nats-server's monitoring documents as routes: /varz, /connz, /subsz,
 * /jsz, /healthz and /accountz, JSON pretty-printed as nats-server sends it.
 */
import { connz, parseConnzQuery } from './connz.js';
import { accountz, CpuMeter, healthz, jsz, subsz, varz } from './documents.js';
import { sendJson, type RouteContext, type RouteTable } from './route.js';

export const MonitorPath = {
  VARZ: '/varz',
  CONNZ: '/connz',
  SUBSZ: '/subsz',
  JSZ: '/jsz',
  HEALTHZ: '/healthz',
  ACCOUNTZ: '/accountz',
} as const;

/** Paths nats-server answers under a second name. */
export const PATH_ALIASES: Readonly<Record<string, string>> = { '/subscriptionsz': MonitorPath.SUBSZ };

/** The document routes. `reqStats` counts requests per path for /varz's http_req_stats. */
export function documentRoutes(reqStats: Record<string, number>): RouteTable {
  const cpu = new CpuMeter();
  return {
    [MonitorPath.VARZ]: (ctx: RouteContext) => sendJson(ctx, varz(ctx.src, { cpu: cpu.percent(), httpReqStats: reqStats })),
    [MonitorPath.CONNZ]: (ctx: RouteContext) => sendJson(ctx, connz(ctx.src, parseConnzQuery(ctx.url.searchParams), ctx.viewer)),
    [MonitorPath.SUBSZ]: (ctx: RouteContext) => sendJson(ctx, subsz(ctx.src, ctx.url.searchParams, ctx.viewer)),
    [MonitorPath.JSZ]: (ctx: RouteContext) => sendJson(ctx, jsz(ctx.src, ctx.url.searchParams, ctx.viewer)),
    [MonitorPath.HEALTHZ]: (ctx: RouteContext) => {
      const h = healthz(ctx.src, ctx.url.searchParams);
      sendJson(ctx, h.body, h.status);
    },
    [MonitorPath.ACCOUNTZ]: (ctx: RouteContext) => sendJson(ctx, accountz(ctx.src)),
  };
}
