// The lazy chunks' files and SRI hashes, made by scripts/lazy-chunks.ts at build time.
declare module "virtual:lazy-chunks" {
  const manifest: Record<string, [file: string, integrity: string]>;
  export default manifest;
}

// The inner chunks' (src/chunks.ts INNER_CHUNKS), built into the window's chunk only.
declare module "virtual:inner-chunks" {
  const manifest: Record<string, [file: string, integrity: string]>;
  export default manifest;
}
