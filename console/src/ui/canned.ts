// The "canned" chunk (vite.config.ts): the canned responses page, which every agent may open
// but few do often, fetched the first time it opens (ui/App.tsx). The picker under the
// composer (CannedPicker, ../canned.ts) stays in console.js: the conversation uses it.

export { CannedPage } from "./CannedPage";
