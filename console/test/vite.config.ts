// Builds test/console.test.ts (and the sources it imports) into one ES module for `node --test`.
import { defineConfig } from "vite";

export default defineConfig({
  publicDir: false,
  envDir: false,
  logLevel: "warn",
  build: {
    ssr: "test/console.test.ts",
    outDir: ".test-build",
    emptyOutDir: true,
    target: "node20",
    minify: false,
    rolldownOptions: { output: { entryFileNames: "console.test.mjs" } },
  },
});
