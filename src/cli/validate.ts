import { ConfigError, loadConfig } from '../config/index.ts';
import { parse } from './args.ts';
import { VALIDATE_HELP } from './help.ts';

export function validateCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, {});
  if (values.help) {
    process.stdout.write(VALIDATE_HELP);
    return 0;
  }
  try {
    const config = loadConfig(positionals[0] ? { path: positionals[0] } : {});
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
