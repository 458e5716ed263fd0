/** Who is calling: the team a key belongs to and what it may use. */
export interface Caller {
  team: string;
  /** The key's name (never the key itself). */
  keyName: string | null;
  /** Model names, aliases and presets the team may use; null = everything. */
  allowedModels: ReadonlySet<string> | null;
}

export const OPEN_CALLER: Caller = { team: 'default', keyName: null, allowedModels: null };
