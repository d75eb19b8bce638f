// The "admin" chunk (vite.config.ts): the pages only admins open, fetched the first time an
// admin opens one of them (ui/App.tsx), so agents never download them. Everything here is
// imported dynamically only: a static import of one of these modules from the entry's code
// would pull it back into console.js (scripts/check-size.mjs fails the build if the entry
// imports a chunk statically).

export { AgentsPage } from "./AgentsPage";
export { ApiKeysPage } from "./ApiKeysPage";
export { DeletedPage } from "./DeletedPage";
export { GroupsPage } from "./GroupsPage";
export { SpacesPage } from "./SpacesPage";
export { TagsPage } from "./TagsPage";
export { WebhooksPage } from "./WebhooksPage";
