import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { heldByOther } from "../colleagues";
import type { Console } from "../console";
import type { Shown } from "../messages";
import type { Note } from "../notes";
import { cameByEmail, compareIds, isOpen, supervises, type Thread } from "../protocol";
import { t } from "../i18n";
import { visitorLabel } from "../visitors";
import { AttachButton, AttachmentView } from "./AttachmentView";
import { CannedList, useCannedPicker } from "./CannedPicker";
import { AlsoHere, AssignedNotice } from "./Colleagues";
import { clock, STATUS_TEXT } from "./format";
import { fromBot, HandoverLine, handoverOf, isHandover, placeHandover } from "./HandoverLine";
import { Lifecycle } from "./Lifecycle";
import { Linked } from "./Linked";
import { RatingLine } from "./RatingLine";
import { VisitorPanel } from "./VisitorPanel";

// Scrolled to within this many pixels of the end: new messages keep the list at the end.
const STICK_PX = 48;
// Scrolled to within this many pixels of the top: read the page before.
const OLDER_PX = 80;

export function ThreadView({
  c,
  id,
  thread,
}: {
  c: Console;
  id: string;
  thread: Thread | undefined;
}) {
  const [transferring, setTransferring] = useState(false);
  const [target, setTarget] = useState("");
  const [confirming, setConfirming] = useState(false);
  // Reply goes to the visitor; Note stays among agents (README, "Private notes and tags"); a
  // Whisper goes to the agent holding the conversation (README, "Roles").
  const [mode, setMode] = useState<"reply" | "note" | "whisper">("reply");
  const composer = useRef<HTMLTextAreaElement>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const firstKey = useRef<string | null>(null);
  const height = useRef(0);
  const log = c.logOf(id);
  const me = c.me;
  const shown = me ? log.shown(me) : [];
  // "Seen by the visitor" shows under the last agent message only.
  const lastReply = shown.filter((m) => m.sender_type === "agent" && m.id).pop();
  const first = shown[0]?.key ?? null;
  const picker = useCannedPicker(
    c,
    () => {
      const t = c.threads.get(id);
      const v = t ? c.visitors.get(t.visitor_id) : undefined;
      return {
        visitorName: v?.name ?? null,
        visitorEmail: v?.email ?? t?.email ?? null,
        agentName: c.me?.name ?? null,
        spaceName: (t && c.spaceName(t.space_id)) || null,
      };
    },
    (text, caret) => {
      c.outbox.setDraft(id, text);
      const el = composer.current;
      if (el) {
        el.value = text;
        el.setSelectionRange(caret, caret);
        el.focus();
      }
      c.changed();
    },
  );

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (firstKey.current !== null && first !== firstKey.current && !stick.current) {
      // Older messages came in above: keep what the agent is reading where it was.
      el.scrollTop += el.scrollHeight - height.current;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
    firstKey.current = first;
    height.current = el.scrollHeight;
    // Not enough history to scroll yet: read more until there is, or there is no more.
    if (el.scrollHeight <= el.clientHeight + 8 && log.before && !log.loading && !log.error) {
      void c.reads.loadHistory(id, true);
    }
  });

  if (!me) return null;
  const error = c.threadErrors.get(id) ?? "";
  if (!thread) {
    return (
      <section class="thread" data-part="thread" data-thread-id={id} data-status="">
        <p class="hint">{t("loadingThread")}</p>
        <p class="error" data-part="thread-error" role="alert" hidden={!error}>
          {error}
        </p>
      </section>
    );
  }

  const open = isOpen(thread.status);
  const name = visitorLabel(c.visitors.get(thread.visitor_id), thread.visitor_id);
  const typing = c.typing.get(id);
  const draft = c.drafts.get(id) ?? "";
  const targets = c.transferTargets();
  const chosen = target || targets[0]?.id || "";
  const busy = (action: string) => c.busy.has(`${id}:${action}`);
  const holder =
    thread.status === "active" && thread.assigned_agent_id
      ? thread.assigned_agent_id === me.id
        ? "you"
        : (c.agents.get(thread.assigned_agent_id)?.name ?? "another agent")
      : "";

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
    if (el.scrollTop < OLDER_PX && log.before && !log.loading) void c.reads.loadHistory(id, true);
  };
  const heldBy = heldByOther(c, thread);
  // A supervisor at a conversation another agent holds: watch, take over, reassign, whisper.
  const floor = supervises(me.role) && open && heldBy ? heldBy : "";
  const whispering = mode === "whisper" && Boolean(floor);
  const noting = mode === "note" || whispering;
  const send = (textarea: HTMLTextAreaElement) => {
    if (noting) {
      const text = textarea.value;
      void c.notes.write(id, text, whispering).then((ok) => {
        if (ok) {
          textarea.value = "";
          c.outbox.setDraft(id, "");
          stick.current = true;
        }
      });
      return;
    }
    if (heldBy && !c.steppedIn.has(id)) {
      // Someone else holds it: ask once before the first reply (the server lets it through).
      if (textarea.value.trim()) setConfirming(true);
      return;
    }
    if (c.outbox.sendMessage(id, textarea.value)) {
      textarea.value = "";
      stick.current = true;
    }
  };
  const close = () => {
    if (window.confirm(t("closeAsk"))) void c.outbox.close(id);
  };

  return (
    <div class="thread-layout">
      <section class="thread" data-part="thread" data-thread-id={id} data-status={thread.status}>
        <header class="thread-head">
          <button
            type="button"
            class="quiet back"
            onClick={() => c.closeThreadView()}
            aria-label={t("back")}
          >
            {t("list")}
          </button>
          <div class="thread-title">
            <h2>{name}</h2>
            <span class={`status status-${thread.status}`}>
              {STATUS_TEXT[thread.status]}
              {holder ? t("withHolder", { name: holder }) : ""}
              {c.spaces.length > 1 ? ` · ${c.spaceName(thread.space_id)}` : ""}
            </span>
            {holder && fromBot(c, { sender_type: "agent", sender_id: thread.assigned_agent_id ?? "" }, thread) ? (
              // Held by a bot that answers first (README "Bots"): claim it to take over.
              <span class="channel" data-part="holder-bot">
                {t("botBadge")}
              </span>
            ) : null}
            <AlsoHere c={c} id={id} />
            <ThreadTags c={c} id={id} />
          </div>
          <div class="thread-actions">
            <button
              type="button"
              class="primary"
              data-part="claim"
              disabled={!c.canClaim(thread) || busy("claim")}
              onClick={() => void c.outbox.claim(id)}
              title="Claim (c)"
            >
              {t("claim")}
            </button>
            {floor ? (
              <>
                <button type="button" data-part="watch" onClick={() => setMode("whisper")}>
                  {t("watch")}
                </button>
                <button
                  type="button"
                  data-part="take-over"
                  disabled={busy("transfer")}
                  onClick={() => void c.outbox.transfer(id, me.id)}
                >
                  {t("takeOver")}
                </button>
              </>
            ) : null}
            <button
              type="button"
              data-part="transfer"
              disabled={!open || busy("transfer")}
              aria-expanded={transferring}
              onClick={() => setTransferring(!transferring)}
            >
              {t(floor ? "reassign" : "transfer")}
            </button>
            <button
              type="button"
              data-part="close"
              disabled={!open || busy("close")}
              onClick={close}
              title="Close (e)"
            >
              {t("close")}
            </button>
            {open ? null : (
              <button
                type="button"
                data-part="reopen"
                disabled={busy("reopen")}
                onClick={() => void c.outbox.reopen(id)}
                title="Reopen and hold this conversation"
              >
                {t("reopen")}
              </button>
            )}
          </div>
        </header>
        {transferring && open ? (
          <div class="transfer">
            <label>
              {t("transferTo")}{" "}
              <select
                data-part="transfer-target"
                value={chosen}
                onChange={(e) => setTarget((e.currentTarget as HTMLSelectElement).value)}
              >
                {targets.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                    {t(a.is_online ? "isOnline" : "isOffline")}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              class="primary"
              data-part="transfer-confirm"
              disabled={!chosen || busy("transfer")}
              onClick={() => {
                void c.outbox.transfer(id, chosen).then(() => {
                  if (!c.threadErrors.get(id)) setTransferring(false);
                });
              }}
            >
              {t("transfer")}
            </button>
            <button type="button" class="quiet" onClick={() => setTransferring(false)}>
              {t("cancel")}
            </button>
            {targets.length === 0 ? <span class="hint">{t("noOther")}</span> : null}
          </div>
        ) : null}
        {thread.channel === "email" ? (
          <p class="email-notice" data-part="email-notice">
            {t("emailReplies")}
            <strong>{thread.email}</strong>
          </p>
        ) : null}
        <RatingLine c={c} threadId={id} />
        <p class="error thread-error" data-part="thread-error" role="alert" hidden={!error}>
          {error}
        </p>
        <div class="messages" ref={scroller} onScroll={onScroll}>
          <div class="history-edge">
            {log.error ? (
              <button
                type="button"
                class="link"
                onClick={() => void c.reads.loadHistory(id, log.before !== undefined)}
              >
                {t("loadFailed", { error: log.error })}
              </button>
            ) : log.loading ? (
              t("loading")
            ) : log.before ? (
              <button type="button" class="link" onClick={() => void c.reads.loadHistory(id, true)}>
                {t("earlier")}
              </button>
            ) : log.before === null ? (
              t("start")
            ) : (
              ""
            )}
          </div>
          <ol class="message-list" aria-live="polite">
            {/* Notes sit among the messages in log order: both ids are stream ids; a bot's
                handover where it happened. */}
            {placeHandover(interleave(shown, c.notes.notesOf(id)), handoverOf(c, thread)).map((item) =>
              isHandover(item) ? (
                <HandoverLine key="handover" c={c} h={item} />
              ) : "author_id" in item ? (
                <li
                  key={`note-${item.id}`}
                  class={item.to_agent_id ? "message note whisper" : "message note"}
                  data-part={item.to_agent_id ? "whisper" : "note"}
                  data-id={item.id}
                >
                  <div class="message-meta">
                    <span class="who">{item.author_id === me.id ? t("you") : item.author_name}</span>
                    <time dateTime={item.created_at}>{clock(item.created_at)}</time>
                    <span class="via">
                      {item.to_agent_id
                        ? t("whisperTo", { name: agentName(c, item.to_agent_id) })
                        : t("onlyAgents")}
                    </span>
                  </div>
                  <div class="content">{item.content}</div>
                </li>
              ) : (
                <MessageItem
                  key={item.key}
                  c={c}
                  m={item}
                  bot={fromBot(c, item, thread)}
                  threadId={id}
                  visitorName={name}
                  seen={item === lastReply && seenByVisitor(item.id, c.visitorRead.get(id))}
                />
              ),
            )}
          </ol>
        </div>
        <p class="typing" data-part="typing" hidden={!typing} aria-live="polite">
          {typing ? t("typing", { name: typing.who }) : ""}
        </p>
        {typing?.draft ? (
          <p class="typing-draft" data-part="typing-draft" title="What the visitor is typing (not sent yet)">
            {typing.draft}
          </p>
        ) : null}
        <Lifecycle c={c} id={id} open={open} />
        {heldBy && open ? (
          <AssignedNotice
            holder={heldBy}
            confirming={confirming}
            confirm={() => {
              c.steppedIn.add(id);
              setConfirming(false);
              if (composer.current) send(composer.current);
            }}
            cancel={() => {
              setConfirming(false);
              composer.current?.focus();
            }}
          />
        ) : null}
        <CannedList picker={picker} />
        {whispering ? (
          <p class="hint" data-part="watching">
            {t("watching")}
          </p>
        ) : null}
        <div class="composer-mode" role="group" aria-label={t("mode")}>
          <button
            type="button"
            data-part="mode-reply"
            aria-pressed={!noting}
            onClick={() => setMode("reply")}
          >
            {t("reply")}
          </button>
          <button
            type="button"
            data-part="mode-note"
            aria-pressed={noting && !whispering}
            onClick={() => setMode("note")}
          >
            {t("note")}
          </button>
          {floor ? (
            <button
              type="button"
              data-part="mode-whisper"
              aria-pressed={whispering}
              onClick={() => setMode("whisper")}
            >
              {t("whisper")}
            </button>
          ) : null}
        </div>
        <form
          class={noting ? "composer noting" : "composer"}
          onSubmit={(e) => {
            e.preventDefault();
            const textarea = (e.currentTarget as HTMLFormElement).querySelector("textarea");
            if (textarea) send(textarea);
          }}
        >
          <textarea
            ref={composer}
            data-part="composer"
            rows={3}
            aria-label={t(whispering ? "whisper" : noting ? "privateNote" : "reply")}
            value={draft}
            disabled={!open && !noting}
            placeholder={
              whispering
                ? t("whisperPlaceholder", { name: floor })
                : t(noting ? "notePlaceholder" : open ? "replyPlaceholder" : "over")
            }
            {...picker.aria}
            onInput={(e) => {
              const el = e.currentTarget as HTMLTextAreaElement;
              c.outbox.setDraft(id, el.value);
              picker.update(el); // "/" opens the canned responses
            }}
            onClick={(e) => picker.update(e.currentTarget as HTMLTextAreaElement)}
            onKeyUp={(e) => {
              if (/^(Arrow(Left|Right)|Home|End)$/.test(e.key)) picker.update(e.currentTarget);
            }}
            onKeyDown={(e) => {
              if (picker.onKeyDown(e)) {
                e.preventDefault();
              } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                send(e.currentTarget as HTMLTextAreaElement);
              } else if (e.key === "Escape") {
                (e.currentTarget as HTMLTextAreaElement).blur();
              }
            }}
          />
          <AttachButton
            c={c}
            threadId={id}
            disabled={!open || noting}
            send={(a) => {
              const el = composer.current;
              if (c.outbox.sendMessage(id, el?.value ?? "", a) && el) el.value = "";
            }}
          />
          <button type="submit" class="primary" data-part="send" disabled={!open && !noting}>
            {t(whispering ? "whisper" : noting ? "addNote" : "send")}
          </button>
        </form>
      </section>
      <VisitorPanel c={c} thread={thread} />
    </div>
  );
}

function ThreadTags({ c, id }: { c: Console; id: string }) {
  const on = c.notes.tagsOf(id);
  const free = c.notes.tags.filter((t) => !on.includes(t.id));
  return (
    <span class="tags" data-part="thread-tags">
      {on.map((tagId) => {
        const t = c.notes.tag(tagId);
        if (!t) return null;
        return (
          <span key={t.id} class="tag" style={{ borderColor: t.colour }} data-part="tag">
            <span class="tag-dot" style={{ background: t.colour }} />
            {t.name}
            <button
              type="button"
              class="quiet"
              aria-label={`Remove tag ${t.name}`}
              onClick={() => void c.notes.setTag(id, t.id, false)}
            >
              ×
            </button>
          </span>
        );
      })}
      {free.length ? (
        <select
          data-part="add-tag"
          aria-label="Add a tag"
          value=""
          onChange={(e) => {
            const value = (e.currentTarget as HTMLSelectElement).value;
            if (value) void c.notes.setTag(id, value, true);
          }}
        >
          <option value="">+ Tag</option>
          {free.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
      ) : null}
    </span>
  );
}

function agentName(c: Console, id: string): string {
  return id === c.me?.id ? t("you") : (c.agents.get(id)?.name ?? t("anotherAgent"));
}

/** Messages and notes in log order: a note goes before the first message logged after it;
 * messages not in the log yet (no id) stay last, in their order. */
function interleave(shown: Shown[], notes: Note[]): (Shown | Note)[] {
  const out: (Shown | Note)[] = [];
  let n = 0;
  for (const m of shown) {
    while (n < notes.length && m.id !== null && compareIds(notes[n].id, m.id) < 0) out.push(notes[n++]);
    out.push(m);
  }
  return out.concat(notes.slice(n));
}

/** The visitor has seen the thread at or past this message (structures.md "Read state"). */
function seenByVisitor(id: string | null | undefined, read: string | undefined): boolean {
  return Boolean(id && read && compareIds(read, id) >= 0);
}

function MessageItem({
  c,
  m,
  bot,
  threadId,
  visitorName,
  seen,
}: {
  c: Console;
  m: Shown;
  /** A bot's message (README "Bots"): a "Bot" badge by the name. */
  bot: boolean;
  threadId: string;
  visitorName: string;
  seen?: boolean;
}) {
  const own = m.sender_type === "agent" && m.sender_id === c.me?.id;
  const who =
    m.sender_type === "visitor"
      ? m.sender_name && m.sender_name !== "Visitor"
        ? m.sender_name
        : visitorName
      : own
        ? t("you")
        : m.sender_name || m.sender_type;
  const classes = `message from-${m.sender_type}${own ? " own" : ""} state-${m.state}`;
  return (
    <li
      class={classes}
      data-part="message"
      data-sender={m.sender_type}
      data-state={m.state}
      data-id={m.id ?? undefined}
      data-client-id={m.client_id ?? undefined}
    >
      <div class="message-meta">
        <span class="who">{who}</span>
        {bot ? (
          <span class="channel" data-part="bot-badge">
            {t("botBadge")}
          </span>
        ) : null}
        <time dateTime={m.created_at}>{clock(m.created_at)}</time>
        {cameByEmail(m) ? (
          <span class="via" data-part="via-email">
            {t("viaEmail")}
          </span>
        ) : null}
        {m.state === "sending" ? <span class="state">{t("sending")}</span> : null}
        {seen ? (
          <span class="state" data-part="seen-by-visitor">
            {t("seen")}
          </span>
        ) : null}
      </div>
      <div class="content" data-part="content">
        {m.attachment && m.content === m.attachment.name ? null : <Linked text={m.content} />}
      </div>
      {m.attachment ? <AttachmentView c={c} a={m.attachment} /> : null}
      {m.quick_replies ? (
        // What the visitor was offered (read only: the visitor presses them, in the widget).
        <div class="quick-replies" data-part="quick-replies">
          {m.quick_replies.map((q) => (
            <span class="quick-reply">{q.label}</span>
          ))}
        </div>
      ) : null}
      {m.state === "failed" && m.client_id ? (
        <div class="failed">
          <span>{t("notSent", { error: m.error ?? "" })}</span>{" "}
          <button
            type="button"
            class="link"
            data-part="retry"
            onClick={() => m.client_id && c.outbox.retryMessage(threadId, m.client_id)}
          >
            {t("retry")}
          </button>{" "}
          <button
            type="button"
            class="link"
            onClick={() => m.client_id && c.outbox.discardMessage(threadId, m.client_id)}
          >
            {t("discard")}
          </button>
        </div>
      ) : null}
    </li>
  );
}
