// Lazy chunks (widget/README.md "Lazy chunks"): every src/lazy/<name>.tsx is built on its own
// into chunks/<name>.<hash>.js next to widget.js, and the main bundle learns each file's name
// and SRI hash from the virtual module `virtual:lazy-chunks` (so a chunk's URL changes with its
// bytes, and a page never runs a chunk from another build).
//
// A chunk shares the main bundle's Preact: preact and preact/jsx-runtime are external in its
// build and resolve to one private object, `__w`, that the loader (src/lazy.tsx) hangs on the
// chunk's own <script> element and the chunk reads from document.currentScript: no global, no
// second Preact (whose vnodes the first would not render), no eval.

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { build, type Plugin } from "vite";
import { CHUNKS, INNER_CHUNKS } from "../src/chunks.ts";

const ROOT = resolve(import.meta.dirname, "..");
const LAZY_DIR = resolve(ROOT, "src/lazy");
const MANIFEST_ID = "virtual:lazy-chunks";
const RESOLVED_ID = "\0" + MANIFEST_ID;
// The inner chunks' manifest, which only the window's chunk (app) imports (src/chunks.ts).
const INNER_ID = "virtual:inner-chunks";
const RESOLVED_INNER_ID = "\0" + INNER_ID;

const LOADER = resolve(ROOT, "src/lazy.tsx");
const LOADER_ID = "widget:lazy";
// The language (src/i18n.ts) is the main bundle's: a chunk's copy would stay English.
const I18N = resolve(ROOT, "src/i18n.ts");
const I18N_ID = "widget:i18n";

// What the registry hands a chunk (src/lazy.tsx `registry()` must provide each). preact/hooks
// is not here on purpose: the widget renders from Chat.state without hooks, and a hooks copy
// per chunk would each patch Preact's options (double effects). A chunk needing local state
// uses a class component (Component is shared).
export const SHARED: Record<string, readonly string[]> = {
  preact: ["Fragment", "Component"],
  "preact/jsx-runtime": ["jsx", "jsxs", "Fragment"],
  // The loader itself (src/lazy.tsx): a chunk may show another chunk; the window's chunk adds
  // the inner chunks to its manifest.
  [LOADER_ID]: ["lazy", "manifest"],
  // The texts in the visitor's language (src/lazy.tsx hands over the main bundle's).
  [I18N_ID]: ["t", "language"],
};

// The main bundle's modules that hold state (or start things): a chunk with a copy of one would
// have a second, disconnected instance. A chunk gets the Chat through its props instead, and
// may copy only stateless helpers (protocol, groups, icons) and types. The shared socket
// (frontend/shared/socket.ts, under connection.ts) counts too: Vite resolves the workspace link
// to that real path.
const MAIN_ONLY = [
  ...["main.tsx", "mount.tsx", "chat.ts", "connection.ts", "embed.ts", "config.ts", "messages.ts", "emitter.ts", "page.ts", "title.ts", "launcher.tsx", "i18n.ts", "locales/en.ts"].map((f) => resolve(ROOT, "src", f)),
  resolve(ROOT, "../frontend/shared/socket.ts"),
];

export interface BuiltChunk {
  name: string;
  file: string;
  code: string;
  integrity: string;
}


function manifestOf(chunks: BuiltChunk[]): string {
  const manifest = Object.fromEntries(chunks.map((c) => [c.name, [c.file, c.integrity]]));
  return `export default ${JSON.stringify(manifest)};`;
}

async function buildChunk(name: string, entry: string, inner: BuiltChunk[] = []): Promise<BuiltChunk> {
  const out = await build({
    configFile: false,
    root: ROOT,
    publicDir: false,
    envDir: false,
    logLevel: "warn",
    plugins: [
      {
        name: "widget-lazy-loader-shared",
        enforce: "pre",
        // The loader's module state (which chunks are loaded, the nonce) must be the main
        // bundle's, so a chunk gets it from the registry rather than a copy.
        async resolveId(source, importer) {
          if (!importer) return null;
          const resolved = await this.resolve(source, importer, { skipSelf: true });
          if (resolved?.id === I18N) return { id: I18N_ID, external: true };
          return resolved?.id === LOADER ? { id: LOADER_ID, external: true } : null;
        },
      },
      {
        name: "widget-inner-chunks",
        resolveId(id) {
          return id === INNER_ID ? RESOLVED_INNER_ID : null;
        },
        load(id) {
          return id === RESOLVED_INNER_ID ? manifestOf(inner) : null;
        },
      },
    ],
    oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
    build: {
      write: false,
      target: "es2020",
      sourcemap: false,
      copyPublicDir: false,
      reportCompressedSize: false,
      lib: { entry, formats: ["iife"], name: "__c", fileName: () => `${name}.js` },
      rolldownOptions: {
        external: Object.keys(SHARED),
        output: {
          codeSplitting: false,
          exports: "named",
          esModule: false,
          globals: Object.fromEntries(Object.keys(SHARED).map((id) => [id, "__w"])),
        },
      },
    },
  });
  const outputs = (Array.isArray(out) ? out : [out]).flatMap((o) => ("output" in o ? o.output : []));
  const chunk = outputs.find((o) => o.type === "chunk");
  if (!chunk || chunk.type !== "chunk" || outputs.length !== 1) {
    throw new Error(`lazy chunk ${name}: expected one JS file (CSS goes in as ?inline)`);
  }
  const copied = Object.keys(chunk.modules).filter((id) => MAIN_ONLY.includes(id));
  if (copied.length) throw new Error(`lazy chunk ${name} would copy ${copied} (import types only)`);
  for (const id of chunk.imports) {
    if (!(id in SHARED)) throw new Error(`lazy chunk ${name} imports ${id}: only ${Object.keys(SHARED)} are shared`);
  }
  const bindings = (chunk as { importedBindings?: Record<string, string[]> }).importedBindings;
  for (const [id, names] of Object.entries(bindings ?? {})) {
    const missing = names.filter((n) => n !== "*" && !SHARED[id]?.includes(n));
    if (missing.length) throw new Error(`lazy chunk ${name} imports ${missing} from ${id}: not shared (scripts/lazy-chunks.ts SHARED)`);
  }
  // The IIFE assigns its exports to `__c`; the wrapper makes that (and __w) local and hands the
  // module to the loader that inserted this script.
  const code =
    `(function(__w){${chunk.code.trim()}\n__w.d(__c)})(document.currentScript.__chatWidget);\n`;
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 12);
  const integrity = "sha256-" + createHash("sha256").update(code).digest("base64");
  return { name, file: `${name}.${hash}.js`, code, integrity };
}

function entryOf(name: string): string {
  const entry = resolve(LAZY_DIR, `${name}.tsx`);
  if (!existsSync(entry)) throw new Error(`lazy chunk ${name}: no ${entry} (src/chunks.ts)`);
  return entry;
}

/** Every chunk, the inner ones first (the window's chunk carries their manifest); `main`: the
 * ones whose manifest widget.js carries. */
export async function buildChunks(): Promise<{ all: BuiltChunk[]; main: BuiltChunk[] }> {
  const inner: BuiltChunk[] = [];
  // One at a time: the machine is small, and the order is the same every time.
  for (const name of INNER_CHUNKS) inner.push(await buildChunk(name, entryOf(name)));
  const main: BuiltChunk[] = [];
  for (const name of CHUNKS) {
    main.push(await buildChunk(name, entryOf(name), name === "app" ? inner : []));
  }
  return { all: [...main, ...inner], main };
}

/** Builds the chunks before the main bundle, gives it their names, emits them under chunks/. */
export function lazyChunks(): Plugin {
  let chunks: BuiltChunk[] = [];
  let main: BuiltChunk[] = [];
  return {
    name: "widget-lazy-chunks",
    async buildStart() {
      ({ all: chunks, main } = await buildChunks());
    },
    resolveId(id) {
      return id === MANIFEST_ID ? RESOLVED_ID : null;
    },
    load(id) {
      return id === RESOLVED_ID ? manifestOf(main) : null;
    },
    generateBundle() {
      for (const c of chunks) {
        this.emitFile({ type: "asset", fileName: `chunks/${c.file}`, source: c.code });
      }
    },
  };
}
