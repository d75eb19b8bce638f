// Builds test/widget.test.ts (and the sources it imports) into one ES module for `node --test`.
import { defineConfig } from "vite";
import { localeHashes } from "../scripts/locales.ts";

export default defineConfig({
  publicDir: false,
  envDir: false,
  logLevel: "warn",
  define: { __LOCALES__: JSON.stringify(localeHashes()) },
  build: {
    ssr: "test/widget.test.ts",
    outDir: ".test-build",
    emptyOutDir: true,
    target: "node20",
    minify: false,
    rolldownOptions: { output: { entryFileNames: "widget.test.mjs" } },
  },
});
