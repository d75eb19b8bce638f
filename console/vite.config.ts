// The console for chat/static/console.html (README "What loads when"): console.js, an ES
// module (`<script type="module">`) holding the sign-in, the inbox and the conversation;
// console.css; and the chunks the entry fetches with a dynamic import() the first time one of
// their pages opens (src/ui/lazy.tsx): admin.<hash>.js (the admins' pages), canned.<hash>.js
// (the canned responses page), and any chunk of code those two share. Everything is a
// same-origin file, so the app's CSP holds (script-src 'self'; style-src 'self': no inline
// script or style anywhere, no eval). A chunk's name carries its content's hash, so the app
// caches it for a year (chat/http/pages.py); console.js keeps its name (the page names it) and
// is revalidated on every load.
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
    // Evergreen browsers of laptops and tablets (Web Locks, CSS.escape, AudioContext; ES
    // modules and dynamic import come with them).
    target: "es2020",
    sourcemap: false,
    copyPublicDir: false,
    // One console.css for every page: the admin pages' rules are a small part of it (README).
    cssCodeSplit: false,
    // scripts/check-size.mjs prints the gzipped sizes.
    reportCompressedSize: false,
    lib: {
      entry: "src/main.tsx",
      formats: ["es"],
      fileName: () => "console.js",
      cssFileName: "console",
    },
    rolldownOptions: {
      // Library mode keeps an entry's exports exactly as written ("strict"), which moved every
      // module the entry shares with a chunk into a third file; the entry may export more.
      preserveEntrySignatures: "allow-extension",
      output: {
        // `<name>.<12 hex>.js`: the app serves names of this shape with a year's cache.
        chunkFileNames: "[name].[hash:12].js",
        hashCharacters: "hex",
        // Library mode minifies an ES build without removing whitespace and keeps its
        // /*#__PURE__*/ comments (for a later bundler); this is the app, bundled once.
        minify: true,
        comments: false,
      },
    },
  },
});
