import type { ServerResponse } from 'node:http';
import { MAX_LINE_BYTES } from '../../../../src/providers/http/limits.ts';

/** An event stream whose one `data:` line runs past the line cap (sent as the socket drains). */
export function sendHugeLine(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write('data: "');
  const block = 'x'.repeat(1024 * 1024);
  let sent = 0;
  const more = () => {
    while (!res.destroyed && sent <= MAX_LINE_BYTES + 2 * block.length) {
      sent += block.length;
      if (!res.write(block)) return void res.once('drain', more);
    }
    res.end('"\n\n');
  };
  more();
}
