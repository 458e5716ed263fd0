import { graphCommand } from './graph.ts';
import { MAIN_HELP } from './help.ts';
import { keysCommand } from './keys.ts';
import { routeCommand } from './route.ts';
import { runCommand } from './run.ts';
import { runsCommand } from './runs.ts';
import { serveCommand } from './serve.ts';
import { spendCommand } from './spend.ts';
import { validateCommand } from './validate.ts';

const COMMANDS: Record<string, (argv: string[]) => number | Promise<number>> = {
  serve: serveCommand,
  validate: validateCommand,
  route: routeCommand,
  keys: keysCommand,
  graph: graphCommand,
  run: runCommand,
  runs: runsCommand,
  spend: spendCommand,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(MAIN_HELP);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`quorum: unknown command "${command}". Run \`quorum --help\` for the list.\n`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(
        `quorum ${command}: ${(err as Error).message}. Run \`quorum ${command} --help\`.\n`,
      );
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
