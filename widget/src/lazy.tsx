// Lazy chunks: parts only some visitors need, in their own files (chunks/<name>.<hash>.js, from
// src/lazy/<name>.tsx; scripts/lazy-chunks.ts builds them), fetched the first time one renders.
//
// A chunk is a classic script from the widget's own origin, inserted into <head> (a script in
// the shadow root has no document.currentScript) with the widget script's nonce (a CSP with
// nonces allows it, 'strict-dynamic' too) and its SRI hash (crossorigin: the service answers
// CORS for chunks). The chunk finds `__chatWidget` on its own element: the main bundle's Preact
// (scripts/lazy-chunks.ts SHARED) and a callback taking the chunk's exports. A chunk that fails
// (network, CSP, SRI) shows a retry in its place; the rest of the widget goes on.

import { Component, type ComponentType } from "preact";
import { Fragment, jsx } from "preact/jsx-runtime";
import manifest from "virtual:lazy-chunks";
import type { ChunkName } from "./chunks";
import type { Embed } from "./embed";
import { language, t } from "./i18n";

/** What a chunk module exports: its component, and optionally CSS for the shadow root. */
export interface ChunkModule {
  default: ComponentType<any>;
  css?: string;
}

/** A chunk being loaded (`module` once it ran, `failed` once its script errored). */
export interface Slot {
  script: HTMLScriptElement;
  module?: ChunkModule;
  failed?: boolean;
}

// The window's chunk adds the inner chunks to it (src/chunks.ts INNER_CHUNKS).
export { manifest };

const slots: Record<string, Slot> = {};
let origin = "";
let nonce = "";
let adopt: (css: string) => void;
let redraw: () => void;

/** Where chunks come from (the widget's origin, the nonce of its tag), how a chunk's CSS joins
 * the shadow root, and how to render again once a chunk has arrived or failed. */
export function configureLazy(embed: Embed, addSheet: (css: string) => void, draw: () => void): void {
  origin = embed.http;
  nonce = embed.nonce;
  adopt = addSheet;
  redraw = draw;
}

/** Chunk `name`: loading it on first call; a failed one stays failed until `retry`. */
export function fetchChunk(name: ChunkName, retry?: boolean): Slot {
  const held = slots[name];
  if (held && !(retry && held.failed)) return held;
  held?.script.remove();
  const [file, integrity] = manifest[name];
  const script = document.createElement("script");
  const slot: Slot = (slots[name] = { script });
  // Read by the chunk's wrapper, on its own element: no global.
  (script as unknown as Record<string, unknown>).__chatWidget = {
    Component,
    Fragment,
    jsx,
    jsxs: jsx, // the same function in Preact
    lazy,
    manifest,
    t,
    language,
    d(module: ChunkModule) {
      if (module.css) adopt(module.css);
      slot.module = module;
      redraw();
    },
  };
  script.src = `${origin}/widget/chunks/${file}`;
  script.crossOrigin = "anonymous";
  script.integrity = integrity;
  script.nonce = nonce;
  script.onerror = () => {
    slot.failed = true;
    redraw();
  };
  document.head.append(script);
  return slot;
}

/** What stands in for a chunk: a small placeholder while it loads, a retry once it failed. */
export function Pending({ name }: { name: ChunkName }) {
  return slots[name]?.failed ? (
    <p class="panel" data-part="lazy-failed" role="alert">
      {t("notLoaded")}{" "}
      <button type="button" class="link" data-part="lazy-retry" onClick={() => fetchChunk(name, true)}>
        {t("tryAgain")}
      </button>
    </p>
  ) : (
    <p class="panel" data-part="loading" aria-busy="true" />
  );
}

/** A component rendering chunk `name`'s default export with the same props, loaded on its
 * first render; <Pending> until then. */
export function lazy<P extends object>(name: ChunkName) {
  return (props: P) => {
    const module = fetchChunk(name).module;
    return module ? jsx(module.default, props) : <Pending name={name} />;
  };
}
