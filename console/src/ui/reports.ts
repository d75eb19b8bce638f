// The "reports" chunk (vite.config.ts): the Reports page, which every agent may open (their own
// figures; admins the organization's), fetched the first time it opens (ui/App.tsx).

export { ReportsPage } from "./ReportsPage";
