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
