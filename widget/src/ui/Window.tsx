// The chat window's contents (the header, the conversation, the panels, the composer), inside
// the window box that src/launcher.tsx draws with the bubble: the bubble's DOM stays the same
// node when this chunk arrives (a click begun before it must not be lost). State comes from
// Chat; mount.tsx re-renders on every change.

import type { Chat } from "../chat";
import { t } from "../i18n";
import { Team } from "../lazy/Team";
import { Conversation } from "./Conversation";
import { Composer, Prechat } from "./Forms";
import { awayLine, screen, statusLine } from "./states";

export function Window({ chat }: { chat: Chat }) {
  const s = chat.state;
  const form = screen(s) === "form";
  const line = awayLine(s);
  return (
    <>
        <div class="head">
          <div>
            <h2 class="title" data-part="title">
              {s.name}
            </h2>
            <div class="sub">
              <span class="presence" data-part="presence" data-online={String(s.online)}>
                {t(s.online ? "online" : "offline")}
              </span>
              <span class="status" data-part="status" data-status={s.status} role="status">
                {statusLine(s)}
              </span>
            </div>
            <Team team={s.team} reply={s.reply} service={chat.service} />
          </div>
          <button type="button" class="x" data-part="close" aria-label={t("close")} onClick={() => chat.close()}>
            ×
          </button>
        </div>
        <Conversation s={s} chat={chat} />
        {s.thread && chat.transcriptUrl() ? (
          <a class="transcript" data-part="transcript" href={chat.transcriptUrl() ?? undefined} target="_blank" rel="noopener">
            {t("transcript")}
          </a>
        ) : null}
        {s.stopped ? (
          <p class="panel">{t("unavailable")}</p>
        ) : (
          <>
            {s.ended && !form ? (
          <div class="panel ended">
            <p>{t("ended")}</p>
            <button type="button" class="primary" data-part="new-conversation" onClick={(event) => {
                const root = event.currentTarget.getRootNode() as ShadowRoot;
                chat.newConversation();
                queueMicrotask(() => root.querySelector<HTMLElement>("[data-part=input]")?.focus());
              }}
            >
              {t("newChat")}
            </button>
          </div>
            ) : (
          <>
            {line && !form ? (
              <p class="panel" data-part="away" role="status">
                {line}
              </p>
            ) : null}
            {!line && s.queuePosition !== null && s.thread?.status === "unassigned" && (
              <p class="panel queue" data-part="queue" role="status">
                {s.queuePosition === 1 ? t("queueNext") : t("queuePlace", { n: s.queuePosition })}{" "}
                {s.wait ? t("wait", { n: Math.max(1, Math.round(s.wait / 60)) }) : t("shortly")}
              </p>
            )}
            {!line && s.thread?.status === "active" && s.thread.agent_name && (
              <p class="panel" data-part="agent" role="status">
                {t("chattingWith", { name: s.thread.agent_name })}
              </p>
            )}
            {!s.thread && s.groups.length > 0 && (
              <select
                class="field"
                data-part="group"
                aria-label={t("topic")}
                value={s.group}
                onChange={(event) => chat.pickGroup(event.currentTarget.value)}
              >
                <option value="">{t("chooseTopic")}</option>
                {s.groups.map((g) => (
                  <option value={g.id}>{g.name}</option>
                ))}
              </select>
            )}
            {form && <Prechat chat={chat} s={s} />}
            {s.notice && (
              <p class="note" role="alert">
                {s.notice}
              </p>
            )}
          </>
            )}
            {/* One composer, ended or not: a draft survives the conversation's end. */}
            {!form && <Composer chat={chat} />}
          </>
        )}
    </>
  );
}
