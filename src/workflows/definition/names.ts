/** Names a workflow, its steps, inputs and outputs may take. */

/** Upper bound on `until.max_iterations` and `back_to.max_loops`: loops always end. */
export const MAX_LOOPS = 20;

/** A workflow name: a lowercase slug such as `hometown-distance`. */
export const WORKFLOW_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * A step, input or output name: letters, digits, `_` and `-`, starting with a letter or `_`. No dots, so
 * `{{ steps.town_a.output }}` splits unambiguously.
 */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** Names that would reach into an object's prototype: refused everywhere (names and template paths). */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name) && !RESERVED_NAMES.has(name);
}
