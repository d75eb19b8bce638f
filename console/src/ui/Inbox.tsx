import { useEffect } from "preact/hooks";
import type { Console } from "../console";
import type { Thread } from "../protocol";
import { LIST_LABELS, LISTS, waitingFor } from "../threads";
import { t } from "../i18n";
import { visitorLabel } from "../visitors";
import { RowViewers } from "./Colleagues";
import { clock, STATUS_TEXT } from "./format";
import { ThreadView } from "./ThreadView";

export function Inbox({ c }: { c: Console }) {
  const open = c.openId ? c.threads.get(c.openId) : undefined;
  return (
    <div class={c.openId ? "inbox has-thread" : "inbox"}>
      <Sidebar c={c} />
      <section class="thread-pane">
        {c.openId ? (
          <ThreadView key={c.openId} c={c} id={c.openId} thread={open} />
        ) : (
          <div class="empty-pane">
            <p>{t("pick")}</p>
            <p class="hint">
              <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>Enter</kbd> opens, <kbd>?</kbd> lists every
              shortcut.
            </p>
          </div>
        )}
      </section>
    </div>
  );
}

function Sidebar({ c }: { c: Console }) {
  const me = c.me;
  const spaceId = c.spaceId;
  const rows = c.visible();
  // Rows ask for their visitor's name and last message once shown (a few requests at a time).
  useEffect(() => {
    for (const t of rows.slice(0, 30)) c.reads.want(t);
  });
  // Group names for the rows' badges (any agent may read the groups).
  useEffect(() => {
    void c.loadGroups().then(() => c.changed(), () => undefined);
  }, []);
  if (!me) return null;
  const w = spaceId ? c.threads.window(spaceId, c.list) : null;
  return (
    <aside class="sidebar">
      <label class="space-picker">
        <span class="label">{t("space")}</span>
        <select
          data-part="space-picker"
          value={spaceId ?? ""}
          onChange={(e) => c.selectSpace((e.currentTarget as HTMLSelectElement).value)}
        >
          {c.spaces.length === 0 ? <option value="">{t("noSpaces")}</option> : null}
          {c.spaces.map((s) => {
            const unread = c.spaceUnread(s.id);
            return (
              <option key={s.id} value={s.id}>
                {unread > 0 ? `${s.name} (${unread})` : s.name}
              </option>
            );
          })}
        </select>
      </label>
      <div class="tabs" role="tablist">
        {LISTS.map((list) => {
          const items = spaceId ? c.threads.list(spaceId, list, me.id) : [];
          const unread = items.reduce((n, t) => n + (c.unread.get(t.id) ?? 0), 0);
          const more = spaceId ? c.threads.window(spaceId, list).next !== null : false;
          return (
            <button
              key={list}
              type="button"
              role="tab"
              aria-selected={c.list === list}
              class={c.list === list ? "tab current" : "tab"}
              data-part="list-tab"
              data-list={list}
              onClick={() => c.setList(list)}
              title={more ? `${items.length} loaded, more to load` : undefined}
            >
              {LIST_LABELS[list]}
              <span class="count" data-part="list-count">
                {more ? `${items.length}+` : items.length}
              </span>
              <span class="badge" data-part="list-unread" hidden={unread === 0}>
                {unread}
              </span>
            </button>
          );
        })}
      </div>
      {c.notes.tags.length ? (
        <label class="tag-filter">
          {t("tag")}{" "}
          <select
            data-part="tag-filter"
            value={c.tagFilter}
            onChange={(e) => {
              c.tagFilter = (e.currentTarget as HTMLSelectElement).value;
              c.changed();
            }}
          >
            <option value="">{t("all")}</option>
            {c.notes.tags.map((tag) => (
              <option key={tag.id} value={tag.id}>
                {tag.name}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <ul class="thread-list" aria-label={LIST_LABELS[c.list]}>
        {rows
          .filter((t) => !c.tagFilter || c.notes.tagsOf(t.id).includes(c.tagFilter))
          .map((t) => (
          <Row key={t.id} c={c} t={t} />
        ))}
      </ul>
      {w?.error ? (
        <p class="error" role="alert">
          {w.error}{" "}
          <button
            type="button"
            class="link"
            onClick={() => spaceId && void c.reads.loadList(spaceId, c.list, !!w.next)}
          >
            {t("retry")}
          </button>
        </p>
      ) : null}
      {w && !w.loaded && w.loading ? <p class="hint">{t("loading")}</p> : null}
      {w?.loaded && rows.length === 0 ? <p class="hint">{t("nothing")}</p> : null}
      {w?.next ? (
        <button
          type="button"
          class="load-more"
          data-part="load-more"
          disabled={w.loading}
          onClick={() => spaceId && void c.reads.loadList(spaceId, c.list, true)}
        >
          {t(w.loading ? "loading" : "loadMore")}
        </button>
      ) : null}
      <OnlineAgents c={c} />
    </aside>
  );
}

function Row({ c, t: th }: { c: Console; t: Thread }) {
  const unread = c.unread.get(th.id) ?? 0;
  const last = c.logs.get(th.id)?.last();
  const mine = last?.sender_type === "agent" && last.sender_id === c.me?.id;
  const preview = last ? `${mine ? t("youSaid") : ""}${last.content}` : "";
  const classes = ["row"];
  if (th.id === c.openId) classes.push("open");
  if (th.id === c.focusId) classes.push("focused");
  if (unread > 0) classes.push("unread");
  const assignee =
    th.status === "active" && th.assigned_agent_id
      ? th.assigned_agent_id === c.me?.id
        ? t("you")
        : (c.agents.get(th.assigned_agent_id)?.name ?? t("anotherAgent"))
      : STATUS_TEXT[th.status];
  return (
    <li>
      <button
        type="button"
        class={classes.join(" ")}
        data-part="thread-row"
        data-thread-id={th.id}
        data-status={th.status}
        aria-current={th.id === c.openId ? "true" : undefined}
        onClick={() => c.openThread(th.id)}
      >
        <span class="row-top">
          <span class="name" data-part="visitor-name">
            {visitorLabel(c.visitors.get(th.visitor_id), th.visitor_id)}
          </span>
          <RowViewers c={c} id={th.id} />
          {th.group_id ? (
            <span class="channel" data-part="group-badge">
              {c.groups.find((g) => g.id === th.group_id)?.name ?? t("group")}
            </span>
          ) : null}
          {th.channel === "email" ? (
            <span class="channel" data-part="email-badge" title={`Answered by email to ${th.email}`}>
              {t("emailBadge")}
            </span>
          ) : null}
          {c.notes.tagsOf(th.id).map((tagId) => {
            const tag = c.notes.tag(tagId);
            return tag ? (
              <span key={tag.id} class="tag" data-part="row-tag" style={{ borderColor: tag.colour }}>
                <span class="tag-dot" style={{ background: tag.colour }} />
                {tag.name}
              </span>
            ) : null;
          })}
          <span class="time">{clock(th.last_activity_at)}</span>
        </span>
        <span class="row-bottom">
          <span class="preview" data-part="preview">
            {preview}
          </span>
          <span
            class="badge"
            data-part="unread"
            hidden={unread === 0}
            aria-label={t("unread", { n: unread })}
          >
            {unread}
          </span>
        </span>
        <span class={`row-status status-${th.status}`}>
          {assignee}
          {th.status === "unassigned" ? (
            <span class="waiting" data-part="waiting">
              {t("waiting", { time: waitingFor(th.created_at, Date.now()) })}
            </span>
          ) : null}
        </span>
      </button>
    </li>
  );
}

function OnlineAgents({ c }: { c: Console }) {
  const online = c.onlineAgents();
  return (
    <section class="online" data-part="online-agents" aria-label={t("agentsOnline")}>
      <h3>{t("onlineNow")}</h3>
      {online.length === 0 ? <p class="hint">{t("nobodyElse")}</p> : null}
      <ul>
        {online.map((a) => (
          <li key={a.id} data-part="online-agent" data-agent-id={a.id}>
            <span class="dot" aria-hidden="true" />
            {a.name}
            {a.accepting_chats ? null : <span class="hint">{t("notAccepting")}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}
