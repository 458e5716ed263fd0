import { RE2JS } from 're2js';

/**
 * Patterns in a team's JSON Schemas run on model output on the shared event loop, so they run on RE2
 * (re2js: linear time in the input, whatever the pattern): `^(a+)+$` cannot stall every other
 * tenant's requests the way a backtracking engine would. RE2 has no lookarounds and no backreferences;
 * a pattern that uses them is refused when the definition is stored, with the reason. ECMAScript's
 * `\uXXXX` and `\u{…}` escapes are read as RE2's `\x{…}`.
 */

/** ECMAScript escapes RE2 spells differently; an escaped backslash (`\\u`) is left alone. */
function toRe2(pattern: string): string {
  return pattern.replace(/\\(\\|u\{([0-9A-Fa-f]{1,6})\}|u([0-9A-Fa-f]{4}))/g, (all, _e, braced, four) =>
    braced || four ? `\\x{${braced ?? four}}` : all,
  );
}

/** Why RE2 cannot run a valid ECMAScript pattern, or undefined when it can (or it is invalid anyway). */
export function linearRegexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'u');
  } catch {
    return undefined; // the `regex` format says so
  }
  try {
    RE2JS.compile(toRe2(pattern));
    return undefined;
  } catch (error) {
    const reason = (error as Error).message.replace(/^error parsing regexp: /, '');
    return `pattern cannot run in linear time (${reason}); lookarounds, backreferences and \\c escapes are not supported`;
  }
}

/** Ajv's `code.regExp`: every `pattern` and `patternProperties` of a compiled schema runs on RE2. */
export function linearRegExp(pattern: string): { test(s: string): boolean; toString(): string } {
  const re = RE2JS.compile(toRe2(pattern));
  // Ajv shares one compiled pattern per `toString()`.
  return { test: (s) => re.test(s), toString: () => pattern };
}
linearRegExp.code = 'linearRegExp';
