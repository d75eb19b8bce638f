// The chat window (and the bubble that goes with it), a lazy chunk: most page views never open
// the chat, so the main bundle renders only the launcher (src/launcher.tsx) until the visitor
// shows intent (src/mount.tsx). Everything ui/ imports comes along, and stays out of widget.js.
export { App as default } from "../ui/App";
// The window's insides, adopted by the loader before the window first renders.
export { default as css } from "./window.css?inline";
// chat.ts reaches these through the chunk (its attach and file links run from the window's UI).
export { Files, uploadError } from "../attachments";
