import type { Console } from "../console";
import { Header } from "./Header";
import { Inbox } from "./Inbox";
import { Chunk, LazyPage } from "./lazy";
import { Shortcuts } from "./Shortcuts";
import { SignIn } from "./SignIn";
import { AvatarField } from "./AvatarField";
import { SecurityPage } from "./TwoFactor";

// Pages in chunks of their own (README "What loads when"), fetched the first time one opens:
// the admins' pages (./admin.ts), the canned responses page (./canned.ts) and the reports page
// (./reports.ts), which every agent may open. The inbox and the conversation are in console.js.
const adminPages = new Chunk(() => import("./admin"));
const cannedPage = new Chunk(() => import("./canned"));
const reportsPage = new Chunk(() => import("./reports"));
const floorPage = new Chunk(() => import("./floor"));
const botRulesPage = new Chunk(() => import("./botrules"));

function AdminPage({ c, page }: { c: Console; page: keyof typeof import("./admin") }) {
  return (
    <LazyPage
      c={c}
      chunk={adminPages}
      page={(pages) => {
        const Page = pages[page];
        return <Page c={c} />;
      }}
    />
  );
}

export function App({ c }: { c: Console }) {
  const me = c.me;
  if (!me) return <SignIn c={c} />;
  const admin = me.role === "admin";
  return (
    <div class="app">
      <Header c={c} />
      {c.notice ? (
        <p class="notice" role="alert">
          {c.notice}
        </p>
      ) : null}
      {c.view === "agents" && admin ? (
        <AdminPage c={c} page="AgentsPage" />
      ) : c.view === "spaces" && admin ? (
        <AdminPage c={c} page="SpacesPage" />
      ) : c.view === "groups" && admin ? (
        <AdminPage c={c} page="GroupsPage" />
      ) : c.view === "deleted" && admin ? (
        <AdminPage c={c} page="DeletedPage" />
      ) : c.view === "tags" && admin ? (
        <AdminPage c={c} page="TagsPage" />
      ) : c.view === "api-keys" && admin ? (
        <AdminPage c={c} page="ApiKeysPage" />
      ) : c.view === "security" ? (
        <>
          <AvatarField c={c} />
          <SecurityPage c={c} />
        </>
      ) : c.view === "webhooks" && admin ? (
        <AdminPage c={c} page="WebhooksPage" />
      ) : c.view === "bot" && admin ? (
        <LazyPage c={c} chunk={botRulesPage} page={(m) => <m.BotRulesPage c={c} />} />
      ) : c.view === "reports" ? (
        <LazyPage c={c} chunk={reportsPage} page={(m) => <m.ReportsPage c={c} />} />
      ) : c.view === "floor" && (admin || me.role === "supervisor") ? (
        <LazyPage c={c} chunk={floorPage} page={(m) => <m.FloorPage c={c} />} />
      ) : c.view === "canned" ? (
        <LazyPage c={c} chunk={cannedPage} page={(m) => <m.CannedPage c={c} />} />
      ) : (
        <Inbox c={c} />
      )}
      {c.showShortcuts ? <Shortcuts c={c} /> : null}
    </div>
  );
}
