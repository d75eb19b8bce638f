// One IIFE file for `<script src=".../widget.js" async>`: no dynamic import, no eval, the CSS
// inlined as a string (src/styles.css?inline) and adopted by the shadow root. Lazy chunks
// (src/lazy/*.tsx) are built by their own plugin into chunks/ (README "Lazy chunks").
import { defineConfig } from "vite";
import { lazyChunks } from "./scripts/lazy-chunks.ts";

export default defineConfig({
  // Nothing to copy from public/, and no .env files: the bundle depends only on src/,
  // ../frontend/shared and the root package-lock.json.
  publicDir: false,
  envDir: false,
  plugins: [lazyChunks()],
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: "../chat/static/widget",
    emptyOutDir: true,
    // Browsers with Shadow DOM, WebSocket and fetch; adoptedStyleSheets where present.
    target: "es2020",
    sourcemap: false,
    copyPublicDir: false,
    // scripts/check-size.mjs prints (and enforces) the gzipped size.
    reportCompressedSize: false,
    lib: {
      entry: "src/main.tsx",
      formats: ["iife"],
      name: "ChatWidgetBundle",
      fileName: () => "widget.js",
    },
    rolldownOptions: {
      output: { codeSplitting: false },
    },
  },
});
