import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';

/** Strict flag parsing shared by every command; unknown flags are errors that point at --help. */
export function parse<O extends ParseArgsOptionsConfig>(argv: string[], options: O) {
  return parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, ...options } as O & {
      help: { type: 'boolean'; short: 'h' };
    },
    allowPositionals: true,
    strict: true,
  });
}

/** Prints a usage error pointing at the command's help; returns exit code 2. */
export function usage(command: string, message: string): number {
  process.stderr.write(`quorum ${command}: ${message}. Run \`quorum ${command} --help\`.\n`);
  return 2;
}

/** `parse()` that reports unknown flags and missing values as a usage error instead of throwing. */
export function parseOr<O extends ParseArgsOptionsConfig>(
  command: string,
  argv: string[],
  options: O,
): ReturnType<typeof parse<O>> | number {
  try {
    return parse(argv, options);
  } catch (e) {
    if (!(e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw e;
    return usage(command, (e as Error).message.replace(/\.$/, ''));
  }
}
