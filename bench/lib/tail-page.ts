/**
 * A dashboard page's share of the work, for the monitoring bench: reads
 * GET /api/live (the URL in argv) as the page's EventSource does, and parses
 * every event's JSON. Prints `TAILING` once the stream is open, and on
 * SIGTERM `TAIL msgs=… skipped=… events=… bytes=…`.
 */
import { get } from 'node:http';

const url = process.argv[2];
if (url === undefined) throw new Error('usage: node tail-page.js <live API URL>');

let msgs = 0;
let skipped = 0;
let events = 0;
let bytes = 0;
let buf = '';

function onBlock(block: string): void {
  let name = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event: ')) name = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (data === '') return;
  events++;
  const d = JSON.parse(data) as { count?: number; payload?: string };
  if (name === 'msg') {
    msgs++;
    // The page decodes each payload to show it.
    bytes += Buffer.from(d.payload ?? '', 'base64').length;
  } else if (name === 'skipped') {
    skipped += d.count ?? 0;
  }
}

const req = get(url, { headers: { accept: 'text/event-stream' } }, (res) => {
  if (res.statusCode !== 200) {
    process.stderr.write(`live API answered ${res.statusCode}\n`);
    process.exit(1);
  }
  process.stdout.write('TAILING\n');
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buf += chunk;
    let end: number;
    while ((end = buf.indexOf('\n\n')) !== -1) {
      onBlock(buf.slice(0, end));
      buf = buf.slice(end + 2);
    }
  });
  res.on('end', () => finish());
});
req.on('error', (err) => {
  process.stderr.write(`live API: ${err.message}\n`);
  process.exit(1);
});

function finish(): void {
  process.stdout.write(`TAIL msgs=${msgs} skipped=${skipped} events=${events} bytes=${bytes}\n`);
  process.exit(0);
}
process.on('SIGTERM', finish);
process.on('SIGINT', finish);
