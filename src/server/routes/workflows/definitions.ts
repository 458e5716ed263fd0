import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { GatewayError } from '../../../errors/index.ts';
import type { Gateway } from '../../../gateway/index.ts';
import type { Store } from '../../../store/index.ts';
import { type Problem, parseDefinition, toDot, toMermaid } from '../../../workflows/definition/index.ts';
import { readBody } from '../../body.ts';
import type { AppEnv } from '../../env.ts';
import { ErrorSchema } from '../../schemas.ts';

const WorkflowSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    version: z.number(),
    definition: z.record(z.string(), z.unknown()).optional(),
    created_at: z.string(),
  })
  .openapi('Workflow');

const invalidWorkflow = (problems: Problem[]) =>
  new GatewayError(
    'invalid_workflow',
    `The workflow definition has ${problems.length} problem(s):\n${problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`,
    { param: problems[0]?.path ?? null },
  );

/** Parses a definition body: YAML when the content type says so, else JSON; every problem reported. */
export async function readDefinition(c: Parameters<typeof readBody>[0], maxBytes: number) {
  const raw = (await readBody(c, maxBytes)).toString('utf8');
  const type = c.req.header('content-type') ?? '';
  const yaml = /yaml/i.test(type);
  if (!yaml) {
    try {
      JSON.parse(raw);
    } catch (err) {
      throw new GatewayError(
        'invalid_body',
        `The body is not valid JSON (send YAML with content-type: application/yaml): ${(err as Error).message}`,
        {
          param: null,
        },
      );
    }
  }
  const parsed = parseDefinition(raw, yaml ? 'yaml' : 'json');
  if (!parsed.ok) throw invalidWorkflow(parsed.problems);
  return parsed;
}

const view = (
  w: { id: string; name: string; version: number; definition: unknown; created_at: number },
  full: boolean,
) => ({
  id: w.id,
  name: w.name,
  version: w.version,
  ...(full ? { definition: w.definition as Record<string, unknown> } : {}),
  created_at: new Date(w.created_at).toISOString(),
});

const create = createRoute({
  method: 'post',
  path: '/v1/workflows',
  summary:
    'Store a workflow definition (JSON, or YAML with content-type: application/yaml); a new version if the name exists',
  security: [{ bearer: [] }],
  request: {
    body: {
      required: true,
      content: {
        'application/json': { schema: z.record(z.string(), z.unknown()) },
        'application/yaml': { schema: z.string() },
      },
    },
  },
  responses: {
    201: { description: 'Stored', content: { 'application/json': { schema: WorkflowSchema } } },
    400: {
      description: 'invalid_workflow: one line per problem, with its path',
      content: { 'application/json': { schema: ErrorSchema } },
    },
  },
});
const list = createRoute({
  method: 'get',
  path: '/v1/workflows',
  summary: 'Workflow definitions: the latest version of each name (?versions=all for every version)',
  security: [{ bearer: [] }],
  responses: {
    200: {
      description: 'List',
      content: {
        'application/json': {
          schema: z.object({ object: z.literal('list'), data: z.array(WorkflowSchema) }),
        },
      },
    },
  },
});
const get = createRoute({
  method: 'get',
  path: '/v1/workflows/{id}',
  summary: 'One workflow definition',
  security: [{ bearer: [] }],
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { description: 'The definition', content: { 'application/json': { schema: WorkflowSchema } } },
    404: { description: 'Unknown workflow', content: { 'application/json': { schema: ErrorSchema } } },
  },
});
const graph = createRoute({
  method: 'get',
  path: '/v1/workflows/{id}/graph',
  summary: 'The DAG drawn as Mermaid (default) or Graphviz DOT, as text/plain',
  security: [{ bearer: [] }],
  request: {
    params: z.object({ id: z.string() }),
    query: z.object({ format: z.enum(['mermaid', 'dot']).optional() }),
  },
  responses: {
    200: { description: 'The graph', content: { 'text/plain': { schema: z.string() } } },
    404: { description: 'Unknown workflow', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

export function registerWorkflowDefinitions(app: OpenAPIHono<AppEnv>, gw: Gateway, store: Store) {
  for (const r of [create, list, get, graph]) app.openAPIRegistry.registerPath(r);

  app.post('/v1/workflows', async (c) => {
    const { definition } = await readDefinition(c, gw.config.server.max_body_bytes);
    const stored = await store.workflows.createWorkflow({ name: definition.name, definition });
    return c.json(view(stored, false), 201);
  });

  app.get('/v1/workflows', async (c) => {
    const versions = c.req.query('versions') === 'all' ? 'all' : 'latest';
    const rows = await store.workflows.listWorkflows({ versions });
    return c.json({ object: 'list' as const, data: rows.map((w) => view(w, false)) });
  });

  const find = async (id: string) => {
    const w = await store.workflows.getWorkflow(id);
    if (!w)
      throw new GatewayError('not_found', `No workflow with id \`${id}\`. GET /v1/workflows lists them.`, {
        param: 'id',
      });
    return w;
  };

  app.get('/v1/workflows/:id', async (c) => c.json(view(await find(c.req.param('id')), true)));

  app.get('/v1/workflows/:id/graph', async (c) => {
    const format = c.req.query('format') ?? 'mermaid';
    if (format !== 'mermaid' && format !== 'dot') {
      throw new GatewayError('invalid_body', 'format: use mermaid or dot', { param: 'format' });
    }
    const w = await find(c.req.param('id'));
    const definition = w.definition as Parameters<typeof toMermaid>[0];
    return c.text(format === 'dot' ? toDot(definition) : toMermaid(definition));
  });
}
