// `npm start`: runs the compiled build (dist/, from `npm run build`) when it is there and newer than
// every source file, else the TypeScript sources (see scripts/entry.mjs).
import { builtEntry, SOURCE_ENTRY } from './entry.mjs';

await import(builtEntry() ?? SOURCE_ENTRY);
