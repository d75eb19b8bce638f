// The "floor" chunk (vite.config.ts): the live floor view, which supervisors and admins open
// (ui/App.tsx), fetched the first time it opens.

export { FloorPage } from "./FloorPage";
