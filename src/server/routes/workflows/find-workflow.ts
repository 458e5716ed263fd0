/**
 * Which workflow definition a request means: `:id` is a definition's id (one version) or a workflow's
 * name (the caller's team's latest version, or `?version=n`). Another team's answers exactly as an
 * unknown id or name does; the operator sees every team's and names the team (`?team=`) when a name is
 * more than one team's.
 */
import type { Context } from 'hono';
import { GatewayError } from '../../../errors/index.ts';
import type { Caller } from '../../../gateway/index.ts';
import type { Store } from '../../../store/index.ts';
import type { AppEnv } from '../../env.ts';

/** The team whose definitions a caller sees: its own, or every team's (undefined) for the operator. */
export const scopeOf = (caller: Caller): string | undefined => (caller.operator ? undefined : caller.team);

/** `?version=`: a positive integer, or absent. */
export function versionQuery(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const version = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new GatewayError('invalid_body', 'version: expected a positive integer (1 is the first version)', {
      param: 'version',
    });
  }
  return version;
}

export interface WorkflowRef {
  /** A definition's id (`wf_…`, one version) or a workflow's name (its latest version, or `version`). */
  ref: string;
  version?: number | undefined;
  /** The operator only: which team's definition a name means when several teams have it. */
  team?: string | undefined;
}

/**
 * A definition the caller may see, by id or by name: an id first (ids are random, names are slugs, so
 * they do not meet), then the caller's team's definition of that name — its latest version, or
 * `version`. Another team's answers exactly as an unknown id or name does. The operator sees every
 * team's; a name more than one team has needs `?team=` then.
 */
export async function findWorkflow(store: Store, caller: Caller, at: WorkflowRef | string) {
  const { ref, version, team } = typeof at === 'string' ? { ref: at } : at;
  const scope = caller.operator ? team : caller.team;
  const byId = await store.workflows.getWorkflow(ref, scope);
  if (byId) {
    if (version !== undefined && version !== byId.version) {
      throw new GatewayError(
        'invalid_body',
        `version: \`${ref}\` is version ${byId.version} of \`${byId.name}\`; to get another, use the name: /v1/workflows/${byId.name}?version=${version}`,
        { param: 'version' },
      );
    }
    return byId;
  }
  const named = await store.workflows.findByName(ref, {
    ...(scope !== undefined && { team: scope }),
    ...(version !== undefined && { version }),
  });
  if (named.length > 1) {
    throw new GatewayError(
      'conflict',
      `${named.length} teams have a workflow named \`${ref}\` (${named.map((w) => `${w.team}: ${w.id}`).join(', ')}); add ?team= or use the id.`,
      { param: 'team' },
    );
  }
  if (named[0]) return named[0];
  if (version !== undefined) {
    const [latest] = await store.workflows.findByName(ref, scope !== undefined ? { team: scope } : {});
    if (latest) {
      throw new GatewayError(
        'not_found',
        `Workflow \`${ref}\` has no version ${version}; its latest is version ${latest.version}.`,
        { param: 'version' },
      );
    }
  }
  throw new GatewayError(
    'not_found',
    `No workflow with the id or name \`${ref}\`. GET /v1/workflows lists them.`,
    { param: 'id' },
  );
}

/** The workflow a request's path names: `:id` (an id or a name) with `?version=` and, for the operator, `?team=`. */
export const workflowRef = (c: Context<AppEnv>): WorkflowRef => ({
  ref: c.req.param('id')!,
  version: versionQuery(c.req.query('version')),
  team: c.req.query('team'),
});
