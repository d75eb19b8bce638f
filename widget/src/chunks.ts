// The lazy chunks (README "Lazy chunks"): each name is a file src/lazy/<name>.tsx that
// scripts/lazy-chunks.ts builds into chunks/<name>.<hash>.js. A module under src/lazy/ that is
// not listed here is an ordinary module of whatever imports it.
export const CHUNKS = ["app", "prechat", "emoji", "loop"] as const;
// Chunks shown only inside the window: their names and SRI hashes travel in the window's chunk
// (src/lazy/app.tsx adds them to the loader's manifest), not in widget.js, which every page
// downloads (each entry there costs it about 70 bytes gzipped).
export const INNER_CHUNKS = ["replies"] as const;

export type ChunkName = (typeof CHUNKS)[number] | (typeof INNER_CHUNKS)[number];
