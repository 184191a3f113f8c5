/**
 * Some life on the hub for the dashboard's screenshots: named clients,
 * subscriptions, a stream with consumers, a responder, a closed connection
 * and a steady trickle of messages on a few subjects. Only the screenshot
 * run uses it; its timer paces the trickle, it orders nothing.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';

export interface Traffic {
  stop(): Promise<void>;
}

export async function makeTraffic(url: string): Promise<Traffic> {
  const conns: NatsConnection[] = [];
  const client = async (name: string) => {
    const nc = await connect({ servers: url, name });
    conns.push(nc);
    return nc;
  };
  const api = await client('orders-api');
  const billing = await client('billing-worker');
  const inventory = await client('inventory-svc');
  const audit = await client('audit-log');
  billing.subscribe('orders.created', { callback: () => undefined });
  billing.subscribe('billing.>', { callback: () => undefined });
  audit.subscribe('>', { callback: () => undefined });
  inventory.subscribe('inventory.check', {
    callback: (_err, m) => void m.respond(JSON.stringify({ sku: 'B-1001', in_stock: 42, warehouse: 'north' })),
  });

  const jsm = await jetstreamManager(api);
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
  await jsm.consumers.add('ORDERS', { durable_name: 'shipper', ack_policy: AckPolicy.Explicit, filter_subject: 'orders.created' });
  await jsm.consumers.add('ORDERS', { durable_name: 'analytics', ack_policy: AckPolicy.Explicit });
  const js = jetstream(api);
  for (let i = 1; i <= 40; i++) await js.publish('orders.created', JSON.stringify({ id: i, item: 'book', qty: 1 + (i % 3) }));
  // Some deliveries acknowledged, one left pending, so the consumer table has numbers.
  const c = await js.consumers.get('ORDERS', 'shipper');
  const batch = await c.fetch({ max_messages: 12, expires: 2_000 });
  let n = 0;
  for await (const m of batch) if (++n % 6 !== 0) m.ack();

  const gone = await connect({ servers: url, name: 'batch-import' });
  await gone.close();

  let seq = 0;
  const timer = setInterval(() => {
    seq++;
    api.publish('orders.created', JSON.stringify({ id: 1000 + seq, item: seq % 2 ? 'book' : 'lamp', qty: 1 + (seq % 4), customer: `c-${seq % 17}` }));
    if (seq % 2 === 0) billing.publish('billing.invoice', JSON.stringify({ order: 1000 + seq, amount: (seq * 7.25) % 300 }));
    if (seq % 3 === 0) api.publish('orders.shipped', `order ${1000 + seq} left the north warehouse`);
    if (seq % 5 === 0) inventory.publish('inventory.level', new Uint8Array([0, 42, seq % 256, 255]));
  }, 40);

  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(conns.map((nc) => nc.close()));
    },
  };
}
