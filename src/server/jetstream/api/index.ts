/**
 * The `$JS.API.*` request router: each path to its handler, grouped by
 * resource (account, streams, messages, consumers). Request and response
 * bodies are JetStream's JSON; errors carry nats-server's codes (errors.ts).
 * Pull requests (CONSUMER.MSG.NEXT) are not API calls with a JSON answer:
 * the JetStream layer routes them to pull.ts before this.
 */
import type { Json } from '../config.js';
import { JsApiError, JsErr } from '../errors.js';
import { accountInfo } from './account.js';
import type { ApiContext } from './common.js';
import { consumerCreate, consumerDelete, consumerInfoCall, consumerList, consumerNames } from './consumers.js';
import { msgDelete, msgGet } from './messages.js';
import { streamCreate, streamDelete, streamInfoCall, streamList, streamNames, streamPurge, streamUpdate } from './streams.js';

const TYPE = 'io.nats.jetstream.api.v1.';

type Handler = (ctx: ApiContext, t: string[], body: Buffer) => Json;

interface Route {
  /** The path's tokens after $JS.API, literal, and how many there are (0 = at least as many). */
  readonly path: readonly string[];
  readonly tokens: number;
  readonly minTokens?: number;
  /** The response type after io.nats.jetstream.api.v1. */
  readonly type: string;
  readonly run: Handler;
}

const ROUTES: readonly Route[] = [
  { path: ['INFO'], tokens: 1, type: 'account_info_response', run: (c) => accountInfo(c) },
  { path: ['STREAM', 'CREATE'], tokens: 3, type: 'stream_create_response', run: (c, t, b) => streamCreate(c, t[2]!, b) },
  { path: ['STREAM', 'UPDATE'], tokens: 3, type: 'stream_update_response', run: (c, t, b) => streamUpdate(c, t[2]!, b) },
  { path: ['STREAM', 'INFO'], tokens: 3, type: 'stream_info_response', run: (c, t, b) => streamInfoCall(c, t[2]!, b) },
  { path: ['STREAM', 'DELETE'], tokens: 3, type: 'stream_delete_response', run: (c, t) => streamDelete(c, t[2]!) },
  { path: ['STREAM', 'PURGE'], tokens: 3, type: 'stream_purge_response', run: (c, t, b) => streamPurge(c, t[2]!, b) },
  { path: ['STREAM', 'NAMES'], tokens: 2, type: 'stream_names_response', run: (c, _t, b) => streamNames(c, b) },
  { path: ['STREAM', 'LIST'], tokens: 2, type: 'stream_list_response', run: (c, _t, b) => streamList(c, b) },
  { path: ['STREAM', 'MSG', 'GET'], tokens: 4, type: 'stream_msg_get_response', run: (c, t, b) => msgGet(c, t[3]!, b) },
  { path: ['STREAM', 'MSG', 'DELETE'], tokens: 4, type: 'stream_msg_delete_response', run: (c, t, b) => msgDelete(c, t[3]!, b) },
  { path: ['CONSUMER', 'CREATE'], tokens: 0, minTokens: 3, type: 'consumer_create_response', run: (c, t, b) => consumerCreate(c, t, b) },
  { path: ['CONSUMER', 'DURABLE', 'CREATE'], tokens: 5, type: 'consumer_create_response', run: (c, t, b) => consumerCreate(c, t, b) },
  { path: ['CONSUMER', 'INFO'], tokens: 4, type: 'consumer_info_response', run: (c, t) => consumerInfoCall(c, t[2]!, t[3]!) },
  { path: ['CONSUMER', 'DELETE'], tokens: 4, type: 'consumer_delete_response', run: (c, t) => consumerDelete(c, t[2]!, t[3]!) },
  { path: ['CONSUMER', 'NAMES'], tokens: 3, type: 'consumer_names_response', run: (c, t, b) => consumerNames(c, t[2]!, b) },
  { path: ['CONSUMER', 'LIST'], tokens: 3, type: 'consumer_list_response', run: (c, t, b) => consumerList(c, t[2]!, b) },
];

function matches(r: Route, t: string[]): boolean {
  if (r.tokens > 0 ? t.length !== r.tokens : t.length < (r.minTokens ?? 0)) return false;
  for (let i = 0; i < r.path.length; i++) if (t[i] !== r.path[i]) return false;
  return true;
}

/**
 * Answers `$JS.API.<path>` (tokens after $JS.API). Returns false for a path
 * nobody serves (the hub then answers "no responders", as nats-server does).
 */
export function handleApi(ctx: ApiContext, tokens: string[], reply: string, body: Buffer): boolean {
  const route = ROUTES.find((r) => matches(r, tokens));
  if (route === undefined) return false;
  ctx.counters.total++;
  let res: Json;
  try {
    res = { type: TYPE + route.type, ...route.run(ctx, tokens, body) };
  } catch (err) {
    ctx.counters.errors++;
    const e = err instanceof JsApiError ? err : JsErr.storeFailure(err instanceof Error ? err.message : String(err));
    if (!(err instanceof JsApiError)) ctx.host.logger.error({ err, api: tokens.join('.') }, 'JetStream API call failed');
    res = { type: TYPE + route.type, error: e };
  }
  ctx.reply(reply, res);
  return true;
}
