import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig } from '../config/index.ts';
import { Gateway, MASTER_CALLER } from '../gateway/index.ts';
import { stepModelProblems } from '../workflows/step-models.ts';
import { parse } from './args.ts';
import { readWorkflowFile } from './graph.ts';
import { VALIDATE_HELP } from './help.ts';

export async function validateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { config: { type: 'string' } });
  if (values.help) {
    process.stdout.write(VALIDATE_HELP);
    return 0;
  }
  const file = positionals[0];
  try {
    if (file && isWorkflowFile(file)) return await validateWorkflow(file, values.config);
    const config = loadConfig(file ? { path: file } : {});
    const presets = Object.keys(config.ensembles).length;
    process.stdout.write(
      `${config.source ?? '(no file: environment defaults)'} is valid: ${config.providers.length} provider(s), ` +
        `${config.models.length} model(s), ${presets} ensemble preset(s), ${config.teams.length} team(s), ${config.keys.length} key(s)\n`,
    );
    for (const note of config.notes) process.stdout.write(`note: ${note}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(`${p}\n`);
      return 2;
    }
    throw err;
  }
}

/** A workflow definition has top-level `steps`; a configuration never does. */
function isWorkflowFile(path: string): boolean {
  try {
    const doc = parseYaml(readFileSync(path, 'utf8'), { maxAliasCount: 100 });
    return Boolean(doc && typeof doc === 'object' && !Array.isArray(doc) && 'steps' in doc);
  } catch {
    return false;
  }
}

/**
 * A workflow: its structure as POST /v1/workflows checks it, then every model it names against the
 * configuration's models, aliases and presets (team allow-lists are checked when it is stored).
 */
async function validateWorkflow(path: string, configPath: string | undefined): Promise<number> {
  const parsed = readWorkflowFile(path);
  if (!parsed) return 2;
  const config = loadConfig(configPath ? { path: configPath } : {});
  const gateway = await Gateway.create(config);
  const problems = stepModelProblems(gateway, MASTER_CALLER, parsed.definition);
  for (const p of problems) process.stderr.write(`${p.path}: ${p.message}\n`);
  if (problems.length) return 2;
  const steps = Object.keys(parsed.definition.steps).length;
  process.stdout.write(
    `${path} is a valid workflow: ${parsed.definition.name}, ${steps} step(s); its models exist in ` +
      `${config.source ?? 'the configuration from the environment'}\n`,
  );
  return 0;
}
