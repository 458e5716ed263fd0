/**
 * The gateway with workflows as `quorum serve` boots them — the engine running every step through the
 * gateway's own request path (the real runner, a real SQLite store) — for suites that drive runs over
 * HTTP against the fake upstreams. Several servers may share one store (a restart with a new config).
 */

import type { Store } from '../../../src/store/index.ts';
import type { Engine } from '../../../src/workflows/engine/index.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

export interface Reply {
  status: number;
  text: string;
  json: any;
}

export interface WorkflowServer {
  gateway: TestGateway;
  engine: Engine;
  /** A request to the server; a string body is sent as is (YAML with `content-type`), else as JSON. */
  api(
    method: string,
    path: string,
    body?: unknown,
    options?: { key?: string; headers?: Record<string, string> },
  ): Promise<Reply>;
  close(): Promise<void>;
}

export async function serveWorkflows(
  config: Record<string, unknown>,
  store: Store,
  options: { masterKey?: string } = {},
): Promise<WorkflowServer> {
  // The store stays open after close(): a restart with a new config serves the same one.
  const gateway = await startGateway(config, {
    ...(options.masterKey && { masterKey: options.masterKey }),
    store,
    workflows: true,
  });
  const engine = gateway.booted.workflows!.engine;
  return {
    gateway,
    engine,
    async api(method, path, body, { key, headers = {} } = {}) {
      const res = await fetch(gateway.url + path, {
        method,
        headers: {
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...(key && { authorization: `Bearer ${key}` }),
          ...headers,
        },
        ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      let json: any = null;
      try {
        json = JSON.parse(text);
      } catch {}
      return { status: res.status, text, json };
    },
    close: () => gateway.close(),
  };
}
