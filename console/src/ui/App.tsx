import type { Console } from "../console";
import { AgentsPage } from "./AgentsPage";
import { ApiKeysPage } from "./ApiKeysPage";
import { CannedPage } from "./CannedPage";
import { DeletedPage } from "./DeletedPage";
import { GroupsPage } from "./GroupsPage";
import { Header } from "./Header";
import { Inbox } from "./Inbox";
import { Shortcuts } from "./Shortcuts";
import { SignIn } from "./SignIn";
import { AvatarField } from "./AvatarField";
import { SpacesPage } from "./SpacesPage";
import { TagsPage } from "./TagsPage";
import { SecurityPage } from "./TwoFactor";
import { WebhooksPage } from "./WebhooksPage";

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
        <AgentsPage c={c} />
      ) : c.view === "spaces" && admin ? (
        <SpacesPage c={c} />
      ) : c.view === "groups" && admin ? (
        <GroupsPage c={c} />
      ) : c.view === "deleted" && admin ? (
        <DeletedPage c={c} />
      ) : c.view === "tags" && admin ? (
        <TagsPage c={c} />
      ) : c.view === "api-keys" && admin ? (
        <ApiKeysPage c={c} />
      ) : c.view === "security" ? (
        <>
          <AvatarField c={c} />
          <SecurityPage c={c} />
        </>
      ) : c.view === "webhooks" && admin ? (
        <WebhooksPage c={c} />
      ) : c.view === "canned" ? (
        <CannedPage c={c} />
      ) : (
        <Inbox c={c} />
      )}
      {c.showShortcuts ? <Shortcuts c={c} /> : null}
    </div>
  );
}
