/**
 * `node --import ./bench/peers/loopback.ts <server>`: every TCP listen of the process binds 127.0.0.1.
 *
 * The Portkey gateway (build/start-server.js) calls `serve({ fetch, port })` with no hostname, so it
 * listens on every interface and has no flag to change that; the bench must not open a port to the
 * network. This preload rewrites the host of net.Server#listen before the server script runs.
 */
import { Server } from 'node:net';

const LOOPBACK = '127.0.0.1';
const ANY = new Set([undefined, null, '', '0.0.0.0', '::', '::0']);
const listen = Server.prototype.listen;

Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const [first, second] = args;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, cb]): a host is a string in second place, else insert one
    if (typeof second === 'string' || second === undefined || second === null) {
      if (ANY.has(second as string | undefined)) args[1] = LOOPBACK;
    } else {
      args.splice(1, 0, LOOPBACK);
    }
  } else if (first !== null && typeof first === 'object' && !('path' in first)) {
    const options = first as { host?: string };
    if (ANY.has(options.host)) args[0] = { ...options, host: LOOPBACK };
  }
  return (listen as (...a: unknown[]) => Server).apply(this, args);
} as typeof Server.prototype.listen;
