// The lazy chunks (README "Lazy chunks"): each name is a file src/lazy/<name>.tsx that
// scripts/lazy-chunks.ts builds into chunks/<name>.<hash>.js. A module under src/lazy/ that is
// not listed here is an ordinary module of whatever imports it.
export const CHUNKS = ["app", "prechat", "emoji", "loop"] as const;

export type ChunkName = (typeof CHUNKS)[number];
