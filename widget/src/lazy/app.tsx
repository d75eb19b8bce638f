import inner from "virtual:inner-chunks";
import { manifest } from "../lazy";

// The chunks only the window shows (src/chunks.ts INNER_CHUNKS): known once the window is.
Object.assign(manifest, inner);

// The chat window's contents, a lazy chunk: most page views never open
// the chat, so the main bundle renders only the launcher (src/launcher.tsx) until the visitor
// shows intent (src/mount.tsx). Everything ui/ imports comes along, and stays out of widget.js.
export { Window as default } from "../ui/Window";
// The window's insides, adopted by the loader before the window first renders.
export { default as css } from "./window.css?inline";
// chat.ts reaches these through the chunk (its attach and file links run from the window's UI).
export { Files, uploadError } from "../attachments";
