const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;
const ANY = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface InterpolationProblem {
  path: string;
  message: string;
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree. Substituting after
 * parsing means a value can never inject YAML structure. Results stay strings (an all-digit key must
 * stay a key); the schema turns numeric strings into numbers where it expects a number.
 */
export function interpolate(
  node: unknown,
  env: NodeJS.ProcessEnv,
  problems: InterpolationProblem[],
  path = '',
): unknown {
  if (typeof node === 'string') return interpolateString(node, env, problems, path);
  if (Array.isArray(node)) return node.map((v, i) => interpolate(v, env, problems, `${path}[${i}]`));
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node))
      out[k] = interpolate(v, env, problems, path ? `${path}.${k}` : k);
    return out;
  }
  return node;
}

function lookup(name: string, fallback: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const value = env[name];
  if (value !== undefined && value !== '') return value;
  return fallback;
}

function interpolateString(
  value: string,
  env: NodeJS.ProcessEnv,
  problems: InterpolationProblem[],
  path: string,
): unknown {
  const whole = WHOLE.exec(value);
  if (whole) {
    const resolved = lookup(whole[1]!, whole[2], env);
    if (resolved === undefined) {
      problems.push({
        path,
        message: `environment variable ${whole[1]} is not set (use \${${whole[1]}:-default})`,
      });
      return value;
    }
    return resolved;
  }
  return value.replace(ANY, (match, name: string, fallback: string | undefined) => {
    const resolved = lookup(name, fallback, env);
    if (resolved === undefined) {
      problems.push({ path, message: `environment variable ${name} is not set (use \${${name}:-default})` });
      return match;
    }
    return resolved;
  });
}
