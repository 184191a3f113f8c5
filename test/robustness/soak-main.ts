/**
 * `npm run soak -- --minutes N [--rate R] [--request-rate Q]`: the soak (see
 * soak.ts) against a hub in a child process. Prints one line per sample
 * (hub RSS, deliveries) and a JSON summary; exits 1 on any loss or error.
 */
import { parseArgs } from 'node:util';
import { startChildHub } from './child-hub.js';
import { soak } from './soak.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    rate: { type: 'string', default: '2000' },
    'request-rate': { type: 'string', default: '200' },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const requestRate = Number(values['request-rate']);
if (!(minutes > 0) || !(rate > 0) || !(requestRate > 0)) {
  console.error('netemitter soak: --minutes, --rate and --request-rate take positive numbers');
  process.exit(2);
}
const hub = await startChildHub();
console.log(`soak: ${minutes} min against ${hub.url} (pid ${hub.pid}), ${rate} events/s + ${rate} jobs/s, ${requestRate} requests/s`);
console.log('  t(s)  hub RSS(MB)  events recv   jobs handled  requests ok');
const result = await soak({
  url: hub.url,
  seconds: minutes * 60,
  rate,
  requestRate,
  rss: () => hub.rssMB(),
  sampleEvery: minutes >= 5 ? 30 : 10,
  onSample: (s) =>
    console.log(`${String(s.atSeconds).padStart(6)}  ${s.rssMB.toFixed(1).padStart(11)}  ${String(s.events).padStart(11)}  ${String(s.jobs).padStart(13)}  ${String(s.requests).padStart(11)}`),
});
await hub.stop();
const { samples, ...summary } = result;
void samples;
console.log(JSON.stringify({ ...summary, errors: result.errors.length }, null, 2));
for (const e of result.errors) console.error(`  error: ${e}`);
process.exit(result.errors.length === 0 && result.requestsLost === 0 ? 0 : 1);
