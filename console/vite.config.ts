// Two files for chat/static/console.html: console.js (one IIFE: no chunks, no dynamic import,
// no eval) and console.css, both loaded by the page under the app's CSP
// (script-src 'self'; style-src 'self': no inline script or style anywhere).
import { defineConfig } from "vite";

export default defineConfig({
  // Nothing to copy from public/, and no .env files: the bundle depends only on src/,
  // ../frontend/shared and the root package-lock.json.
  publicDir: false,
  envDir: false,
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: "../chat/static/console",
    emptyOutDir: true,
    // Evergreen browsers of laptops and tablets (Web Locks, CSS.escape, AudioContext).
    target: "es2020",
    sourcemap: false,
    copyPublicDir: false,
    cssCodeSplit: false,
    // scripts/check-size.mjs prints the gzipped sizes.
    reportCompressedSize: false,
    lib: {
      entry: "src/main.tsx",
      formats: ["iife"],
      name: "ChatConsole",
      fileName: () => "console.js",
      cssFileName: "console",
    },
    rolldownOptions: {
      output: { codeSplitting: false },
    },
  },
});
