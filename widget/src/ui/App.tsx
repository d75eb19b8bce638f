// The launcher bubble and the chat window. State comes from Chat; mount.tsx re-renders on
// every change.

import type { Chat } from "../chat";
import { noAgent } from "../groups";
import { lazy } from "../lazy";
import type { AwayProps } from "../lazy/away";
import type { RatingProps } from "../lazy/rating";
import { closeLoopTexts } from "../lazy/texts";
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
  return (
    <>
      <button
        type="button"
        class="bubble"
        data-part="bubble"
        aria-label={s.open ? "Close chat" : "Open chat"}
        aria-expanded={s.open}
        aria-haspopup="dialog"
        onClick={() => chat.toggle()}
      >
        <ChatIcon />
        <span class="badge" data-part="unread" aria-label={`${s.unread} unread`} hidden={!s.unread}>
          {s.unread}
        </span>
      </button>
      <div
        class="window"
        data-part="window"
        role="dialog"
        aria-label={`Chat with ${s.name}`}
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
                {s.online ? "Online" : "Offline"}
              </span>
              <span class="status" data-part="status" data-status={s.status} role="status">
                {s.status}
              </span>
            </div>
          </div>
          <button type="button" class="x" data-part="close" aria-label="Close chat" onClick={() => chat.close()}>
            ×
          </button>
        </div>
        <Conversation s={s} chat={chat} />
        {s.thread && chat.transcriptUrl() ? (
          <a class="transcript" data-part="transcript" href={chat.transcriptUrl() ?? undefined} target="_blank" rel="noopener">
            Download transcript
          </a>
        ) : null}
        {s.thread && s.mailOn && !s.ended ? (
          <button type="button" class="transcript" data-part="transcript-mail" onClick={() => chat.toggleMail()}>
            {closeLoopTexts.mailMenu}
          </button>
        ) : null}
        {s.thread && s.mailOn && !s.ended && s.mailOpen ? (
          <TranscriptForm email={s.email} state={s.mailed} onSend={(email) => void chat.mailTranscript(email)} />
        ) : null}
        {s.stopped ? (
          <p class="panel">Chat is not available right now.</p>
        ) : (
          <>
            {s.ended ? (
          <>
          <div class="panel ended">
            <p>This conversation has ended. Write below to continue it.</p>
            <button type="button" class="primary" data-part="new-conversation" onClick={(event) => {
                const root = event.currentTarget.getRootNode() as ShadowRoot;
                chat.newConversation();
                queueMicrotask(() => root.querySelector<HTMLElement>("[data-part=input]")?.focus());
              }}
            >
              Start a new conversation
            </button>
          </div>
          {s.thread && (
            <Rating state={s.rating} maxComment={MAX_RATING_COMMENT_CHARS} onRate={(score, comment) => chat.rate(score, comment)} />
          )}
          {/* After the close: the transcript by mail, when the service can send it. */}
          {s.thread && s.mailOn && (
            <TranscriptForm email={s.email} state={s.mailed} onSend={(email) => void chat.mailTranscript(email)} />
          )}
          </>
            ) : (
          <>
            {closedHours && <Away message={s.awayMessage} backAt={s.backAt} now={Date.now()} />}
            {s.queuePosition !== null && s.thread?.status === "unassigned" && (
              <p class="panel queue" data-part="queue" role="status">
                {s.queuePosition === 1
                  ? "You are next in the queue."
                  : `You are number ${s.queuePosition} in the queue.`}
                {s.wait ? ` Wait about ${Math.max(1, Math.round(s.wait / 60))} min.` : " An agent will be with you shortly."}
              </p>
            )}
            {s.thread?.status === "active" && s.thread.agent_name && (
              <p class="panel" data-part="agent" role="status">
                You are chatting with {s.thread.agent_name}
              </p>
            )}
            {!s.thread && s.groups.length > 0 && (
              <select
                class="field"
                data-part="group"
                aria-label="Topic"
                value={s.group}
                onChange={(event) => chat.pickGroup(event.currentTarget.value)}
              >
                <option value="">Choose a topic</option>
                {s.groups.map((g) => (
                  <option value={g.id}>{g.name}</option>
                ))}
              </select>
            )}
            {away && !s.identified && <Prechat chat={chat} s={s} />}
            {away && s.thanked && <p class="panel">Thanks! We will get back to you.</p>}
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
