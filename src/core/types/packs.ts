/* The ground floor: the names of the built-in attack packs (the schemas and the packs share them). */
export const PACK_NAMES = ['injection', 'jailbreak', 'extraction', 'pii', 'encoding', 'multilingual', 'edge'] as const;

export type PackName = (typeof PACK_NAMES)[number];
