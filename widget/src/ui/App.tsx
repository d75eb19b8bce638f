// The launcher bubble and the chat window. State comes from Chat; mount.tsx re-renders on
// every change.

import type { Chat } from "../chat";
import { noAgent } from "../groups";
import { t } from "../i18n";
import { lazy } from "../lazy";
import type { AwayProps } from "../lazy/away";
import type { RatingProps } from "../lazy/rating";
import { Team } from "../lazy/Team";
import type { TranscriptProps } from "../lazy/transcript";
import { MAX_RATING_COMMENT_CHARS } from "../protocol";
import { Conversation } from "./Conversation";
import { Composer, Prechat } from "./Forms";
import { ChatIcon } from "./icons";

// Issue 17's screens, each a lazy chunk: most windows never show them.
const Away = lazy<AwayProps>("away");
const Rating = lazy<RatingProps>("rating");
const TranscriptForm = lazy<TranscriptProps>("transcript");

export function App({ chat }: { chat: Chat }) {
  const s = chat.state;
  // Outside business hours a visitor without an open conversation is away too: hours win, and
  // agents still answer the conversations already open (structures.md "Business hours").
  const closedHours = s.outsideHours && !s.thread;
  const away = !s.online || s.queueFull || noAgent(s) || closedHours;
  // The visitor's own copy of the conversation: downloaded, or emailed (the transcript chunk).
  const transcript = s.thread && chat.transcriptUrl();
  return (
    <>
      <button
        type="button"
        class="bubble"
        data-part="bubble"
        aria-label={t(s.open ? "close" : "open")}
        aria-expanded={s.open}
        aria-haspopup="dialog"
        onClick={() => chat.toggle()}
      >
        <ChatIcon />
        {s.label && !s.open && (
          <span class="label" data-part="launcher-label">
            {s.label}
          </span>
        )}
        <span class="badge" data-part="unread" aria-label={t("unread", { n: s.unread })} hidden={!s.unread}>
          {s.unread}
        </span>
      </button>
      <div
        class="window"
        data-part="window"
        role="dialog"
        aria-label={t("chatWith", { name: s.name })}
        hidden={!s.open}
        onKeyDown={(event) => {
          if (event.key === "Escape") {
            event.stopPropagation();
            chat.close();
          }
        }}
      >
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
                {t(s.status === "offline" ? "noConnection" : s.status)}
              </span>
            </div>
            <Team team={s.team} reply={s.reply} service={chat.service} />
          </div>
          <button type="button" class="x" data-part="close" aria-label={t("close")} onClick={() => chat.close()}>
            ×
          </button>
        </div>
        <Conversation s={s} chat={chat} />
        {transcript ? (
          <a class="transcript" data-part="transcript" href={transcript} target="_blank" rel="noopener">
            {t("transcript")}
          </a>
        ) : null}
        {transcript && s.mailOn && !s.ended ? (
          <button type="button" class="transcript" data-part="transcript-mail" onClick={() => chat.toggleMail()}>
            {t("mailMenu")}
          </button>
        ) : null}
        {transcript && s.mailOn && !s.ended && s.mailOpen ? (
          <TranscriptForm email={s.email} url={transcript} />
        ) : null}
        {s.stopped ? (
          <p class="panel">{t("unavailable")}</p>
        ) : (
          <>
            {s.ended ? (
          <>
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
          {s.thread && (
            <Rating state={s.rating} maxComment={MAX_RATING_COMMENT_CHARS} onRate={(score, comment) => chat.rate(score, comment)} />
          )}
          {/* After the close: the transcript by mail, when the service can send it. */}
          {transcript && s.mailOn && (
            <TranscriptForm email={s.email} url={transcript} />
          )}
          </>
            ) : (
          <>
            {closedHours && s.hours && <Away hours={s.hours} now={Date.now()} />}
            {s.queuePosition !== null && s.thread?.status === "unassigned" && (
              <p class="panel queue" data-part="queue" role="status">
                {s.queuePosition === 1 ? t("queueNext") : t("queuePlace", { n: s.queuePosition })}{" "}
                {s.wait ? t("wait", { n: Math.max(1, Math.round(s.wait / 60)) }) : t("shortly")}
              </p>
            )}
            {s.thread?.status === "active" && s.thread.agent_name && (
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
            {away && !s.identified && <Prechat chat={chat} s={s} />}
            {away && s.thanked && <p class="panel">{t("thanks")}</p>}
            {s.notice && (
              <p class="note" role="alert">
                {s.notice}
              </p>
            )}
          </>
            )}
            {/* One composer, ended or not: a draft survives the conversation's end. */}
            <Composer chat={chat} />
          </>
        )}
      </div>
    </>
  );
}
