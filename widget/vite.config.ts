// One IIFE file for `<script src=".../widget.js" async>`: no dynamic import, no eval, the CSS
// inlined as a string (src/styles.css?inline) and adopted by the shadow root. Lazy chunks
// (src/lazy/*.tsx) are built by their own plugin into chunks/ (README "Lazy chunks").
import { defineConfig } from "vite";
import { localeHashes, localesPlugin } from "./scripts/locales.ts";
import { lazyChunks } from "./scripts/lazy-chunks.ts";

export default defineConfig({
  // Nothing to copy from public/, and no .env files: the bundle depends only on src/,
  // ../frontend/shared and the root package-lock.json.
  publicDir: false,
  envDir: false,
  // The lazy chunks (chunks/) and the catalogues (locales/<lang>.<hash>.json) beside widget.js.
  plugins: [lazyChunks(), localesPlugin()],
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  define: {
    "process.env.NODE_ENV": JSON.stringify("production"),
    // The catalogues besides English, each by its file's hash (src/i18n.ts).
    __LOCALES__: JSON.stringify(localeHashes()),
  },
  build: {
    outDir: "../chat/static/widget",
    emptyOutDir: true,
    // Browsers with Shadow DOM, WebSocket and fetch; adoptedStyleSheets where present.
    target: "es2020",
    // Logical properties (margin-inline-start, border-end-end-radius: the right-to-left layout)
    // as they are: lowered for es2020's browsers they became :lang() fallbacks, 1 KB gzipped.
    // Every browser with the rest of what the widget needs (Safari 15) has them.
    cssTarget: ["chrome89", "edge89", "firefox66", "safari15"],
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
