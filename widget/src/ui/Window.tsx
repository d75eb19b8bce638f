// The chat window's contents (the header, the conversation, the panels, the composer), inside
// the window box that src/launcher.tsx draws with the bubble: the bubble's DOM stays the same
// node when this chunk arrives (a click begun before it must not be lost). State comes from
// Chat; mount.tsx re-renders on every change.

import type { Chat } from "../chat";
import { t } from "../i18n";
import { lazy } from "../lazy";
import type { LoopProps } from "../lazy/loop";
import { Team } from "../lazy/Team";
import { MAX_RATING_COMMENT_CHARS } from "../protocol";
import { Conversation } from "./Conversation";
import { EmailTranscript } from "./EmailTranscript";
import { Composer, Prechat } from "./Forms";
import { awayLine, closedHours, screen, statusLine } from "./states";

// Issue 17's screens (the away screen, the rating, the transcript form), a lazy chunk: most
// windows never show them.
const Loop = lazy<LoopProps>("loop");

export function Window({ chat }: { chat: Chat }) {
  const s = chat.state;
  const form = screen(s) === "form";
  const line = awayLine(s);
  // Outside business hours, the away screen (the space's message, when the team is back) is the
  // one sentence, above the box or the form (structures.md "Business hours").
  const hoursAway = closedHours(s) && !s.thanked && s.hours;
  // The visitor's own copy of the conversation: downloaded, or emailed (the transcript chunk).
  const transcript = s.thread && chat.transcriptUrl();
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
        {transcript ? (
          <a class="transcript" data-part="transcript" href={transcript} target="_blank" rel="noopener">
            {t("transcript")}
          </a>
        ) : null}
        {transcript && s.mailOn && !s.ended ? <EmailTranscript email={s.email} url={transcript} /> : null}
        {s.stopped ? (
          <p class="panel">{t("unavailable")}</p>
        ) : (
          <>
            {s.ended && !form ? (
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
          {/* After the close: the rating, and the transcript by mail when the service can send it. */}
          {transcript && (
            <Loop
              rating={{ state: s.rating, maxComment: MAX_RATING_COMMENT_CHARS, onRate: (score, comment) => chat.rate(score, comment) }}
              transcript={s.mailOn ? { email: s.email, url: transcript } : undefined}
            />
          )}
          </>
            ) : (
          <>
            {hoursAway ? (
              <Loop away={{ hours: hoursAway, now: Date.now() }} />
            ) : line && !form ? (
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
