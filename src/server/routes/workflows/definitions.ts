/**
 * Workflow definition endpoints: store (JSON or YAML), list, read, draw. A definition belongs to the
 * team that stored it: other teams get a 404 exactly as for an unknown id, and only the operator sees
 * every team's.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { parseDocument } from 'yaml';
import { GatewayError } from '../../../errors/index.ts';
import type { Gateway } from '../../../gateway/index.ts';
import type { Store } from '../../../store/index.ts';
import { type Problem, toDot, toMermaid, validateDefinition } from '../../../workflows/definition/index.ts';
import { stepModelProblems } from '../../../workflows/step-models.ts';
import { checkNesting, readBody } from '../../body.ts';
import type { AppEnv } from '../../env.ts';
import { ErrorSchema } from '../../schemas.ts';
import { findWorkflow, scopeOf, workflowRef } from './find-workflow.ts';

/** Aliases a YAML definition may expand: far more than any real one uses, far fewer than a bomb needs. */
const MAX_YAML_ALIASES = 100;

const WorkflowSchema = z
  .object({
    id: z.string(),
    team: z.string(),
    name: z.string(),
    version: z.number(),
    definition: z.record(z.string(), z.unknown()).optional(),
    created_at: z.string(),
  })
  .openapi('Workflow');

/** 400 invalid_workflow: one line per problem, with its path; `param` is the first problem's path. */
export const invalidWorkflow = (problems: Problem[], lead = 'The workflow definition has') =>
  new GatewayError(
    'invalid_workflow',
    `${lead} ${problems.length} problem(s):\n${problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`,
    { param: problems[0]?.path ?? null },
  );

const badBody = (message: string) => new GatewayError('invalid_body', message, { param: null });
const tooDeep = () =>
  badBody('The YAML body is nested too deeply to read (server.max_json_depth bounds nesting).');

/**
 * YAML text → data, refusing alias bombs. The parser and `toJS` recurse, so text nested deeper than the
 * stack allows fails there (caught as a 400) before the iterative depth check can see it.
 */
function parseYaml(raw: string): unknown {
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(raw);
  } catch {
    throw tooDeep();
  }
  const [first] = doc.errors;
  // The parser reports its own stack overflow as a syntax error: say what it means.
  if (first?.message.includes('call stack')) throw tooDeep();
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? ` (line ${pos.line}, column ${pos.col})` : '';
    throw badBody(`The body is not valid YAML${where}: ${first.message.split('\n')[0]}`);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    if (err instanceof ReferenceError) {
      throw badBody(`The YAML body expands too many aliases (at most ${MAX_YAML_ALIASES} are allowed).`);
    }
    throw tooDeep();
  }
}

/**
 * Parses a definition body: YAML when the content type says so, else JSON; bounded in size and depth
 * before anything walks it, then every problem of the definition reported.
 */
export async function readDefinition(c: Context, server: { max_body_bytes: number; max_json_depth: number }) {
  const raw = (await readBody(c, server.max_body_bytes)).toString('utf8');
  const yaml = /yaml/i.test(c.req.header('content-type') ?? '');
  let data: unknown;
  if (yaml) data = parseYaml(raw);
  else {
    try {
      data = JSON.parse(raw);
    } catch (err) {
      throw badBody(
        `The body is not valid JSON (send YAML with content-type: application/yaml): ${(err as Error).message}`,
      );
    }
  }
  checkNesting(data, server.max_json_depth);
  const parsed = validateDefinition(data);
  if (!parsed.ok) throw invalidWorkflow(parsed.problems);
  return parsed;
}

const view = (
  w: { id: string; team: string; name: string; version: number; definition: unknown; created_at: number },
  full: boolean,
) => ({
  id: w.id,
  team: w.team,
  name: w.name,
  version: w.version,
  ...(full ? { definition: w.definition as Record<string, unknown> } : {}),
  created_at: new Date(w.created_at).toISOString(),
});

const create = createRoute({
  method: 'post',
  path: '/v1/workflows',
  summary:
    "Store a workflow definition (JSON, or YAML with content-type: application/yaml) as the caller's team's; a new version if the team has the name, the existing one (200) if identical",
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
    200: {
      description: "Identical to the team's latest version of the name: that version",
      content: { 'application/json': { schema: WorkflowSchema } },
    },
    400: {
      description: 'invalid_workflow: one line per problem, with its path',
      content: { 'application/json': { schema: ErrorSchema } },
    },
  },
});
const list = createRoute({
  method: 'get',
  path: '/v1/workflows',
  summary:
    "The caller's team's workflow definitions (every team's for the master key): the latest version of each name (?versions=all for every version, ?name= for one name's)",
  security: [{ bearer: [] }],
  request: {
    query: z.object({ versions: z.enum(['latest', 'all']).optional(), name: z.string().optional() }),
  },
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
/** `{id}` is a definition's id or a workflow's name; a name means its latest version unless `?version=`. */
export const WorkflowParams = z.object({
  id: z
    .string()
    .openapi({ description: "A definition's id (wf_…), or a workflow's name (the caller's team's)" }),
});
export const WorkflowQuery = {
  version: z.string().optional().openapi({ description: 'With a name: this version instead of the latest' }),
  team: z
    .string()
    .optional()
    .openapi({ description: 'Master key only: the team whose workflow a name means, when several have it' }),
};

const get = createRoute({
  method: 'get',
  path: '/v1/workflows/{id}',
  summary: 'One workflow definition, by id or by name (the latest version, or ?version=)',
  security: [{ bearer: [] }],
  request: { params: WorkflowParams, query: z.object(WorkflowQuery) },
  responses: {
    200: { description: 'The definition', content: { 'application/json': { schema: WorkflowSchema } } },
    404: {
      description: 'Unknown workflow, name or version',
      content: { 'application/json': { schema: ErrorSchema } },
    },
    409: {
      description: 'Master key: several teams have the name (add ?team=)',
      content: { 'application/json': { schema: ErrorSchema } },
    },
  },
});
const graph = createRoute({
  method: 'get',
  path: '/v1/workflows/{id}/graph',
  summary: 'The DAG drawn as Mermaid (default) or Graphviz DOT, as text/plain; by id or by name',
  security: [{ bearer: [] }],
  request: {
    params: WorkflowParams,
    query: z.object({ format: z.enum(['mermaid', 'dot']).optional(), ...WorkflowQuery }),
  },
  responses: {
    200: { description: 'The graph', content: { 'text/plain': { schema: z.string() } } },
    404: { description: 'Unknown workflow', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

export function registerWorkflowDefinitions(app: OpenAPIHono<AppEnv>, gw: Gateway, store: Store) {
  for (const r of [create, list, get, graph]) app.openAPIRegistry.registerPath(r);

  app.post('/v1/workflows', async (c) => {
    const { definition } = await readDefinition(c, gw.config.server);
    const caller = c.get('caller');
    const refused = stepModelProblems(gw, caller, definition);
    if (refused.length) throw invalidWorkflow(refused);
    const team = caller.team;
    const { workflow, created } = await store.workflows.storeWorkflow({
      team,
      name: definition.name,
      definition,
    });
    return c.json(view(workflow, false), created ? 201 : 200);
  });

  app.get('/v1/workflows', async (c) => {
    const versions = c.req.query('versions') === 'all' ? 'all' : 'latest';
    const team = scopeOf(c.get('caller'));
    const name = c.req.query('name');
    const rows = await store.workflows.listWorkflows({
      versions,
      ...(team !== undefined && { team }),
      ...(name !== undefined && { name }),
    });
    return c.json({ object: 'list' as const, data: rows.map((w) => view(w, false)) });
  });

  const find = (c: Context<AppEnv>) => findWorkflow(store, c.get('caller'), workflowRef(c));

  app.get('/v1/workflows/:id', async (c) => c.json(view(await find(c), true)));

  app.get('/v1/workflows/:id/graph', async (c) => {
    const format = c.req.query('format') ?? 'mermaid';
    if (format !== 'mermaid' && format !== 'dot') {
      throw new GatewayError('invalid_body', 'format: use mermaid or dot', { param: 'format' });
    }
    const w = await find(c);
    const definition = w.definition as Parameters<typeof toMermaid>[0];
    return c.text(format === 'dot' ? toDot(definition) : toMermaid(definition));
  });
}
