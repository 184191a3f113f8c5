/** `$JS.API.INFO`: the account's usage and limits (none are enforced per account). */
import type { Json } from '../config.js';
import type { ApiContext } from './common.js';

export function accountInfo(ctx: ApiContext): Json {
  let memory = 0;
  let storage = 0;
  let consumers = 0;
  for (const s of ctx.registry.streams.values()) {
    const st = s.store.streamTotals(s.name);
    if (s.config.storage === 'memory') memory += st.bytes;
    else storage += st.bytes;
    consumers += s.consumers.size;
  }
  return {
    memory,
    storage,
    streams: ctx.registry.streams.size,
    consumers,
    limits: {
      max_memory: -1,
      max_storage: -1,
      max_streams: -1,
      max_consumers: -1,
      max_ack_pending: -1,
      memory_max_stream_bytes: -1,
      storage_max_stream_bytes: -1,
      max_bytes_required: false,
    },
    api: { total: ctx.counters.total, errors: ctx.counters.errors },
  };
}
