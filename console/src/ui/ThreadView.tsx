import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { heldByOther } from "../colleagues";
import type { Console } from "../console";
import type { Shown } from "../messages";
import { cameByEmail, isOpen, type Thread } from "../protocol";
import { visitorLabel } from "../visitors";
import { CannedList, useCannedPicker } from "./CannedPicker";
import { AlsoHere, AssignedNotice } from "./Colleagues";
import { clock, STATUS_TEXT } from "./format";
import { Lifecycle } from "./Lifecycle";
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
  const composer = useRef<HTMLTextAreaElement>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const firstKey = useRef<string | null>(null);
  const height = useRef(0);
  const log = c.logOf(id);
  const me = c.me;
  const shown = me ? log.shown(me) : [];
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
        <p class="hint">Loading the conversation…</p>
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
  const send = (textarea: HTMLTextAreaElement) => {
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
    if (window.confirm("Close this conversation?")) void c.outbox.close(id);
  };

  return (
    <div class="thread-layout">
      <section class="thread" data-part="thread" data-thread-id={id} data-status={thread.status}>
        <header class="thread-head">
          <button
            type="button"
            class="quiet back"
            onClick={() => c.closeThreadView()}
            aria-label="Back to the list"
          >
            ← List
          </button>
          <div class="thread-title">
            <h2>{name}</h2>
            <span class={`status status-${thread.status}`}>
              {STATUS_TEXT[thread.status]}
              {holder ? ` · with ${holder}` : ""}
              {c.spaces.length > 1 ? ` · ${c.spaceName(thread.space_id)}` : ""}
            </span>
            <AlsoHere c={c} id={id} />
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
              Claim
            </button>
            <button
              type="button"
              data-part="transfer"
              disabled={!open || busy("transfer")}
              aria-expanded={transferring}
              onClick={() => setTransferring(!transferring)}
            >
              Transfer
            </button>
            <button
              type="button"
              data-part="close"
              disabled={!open || busy("close")}
              onClick={close}
              title="Close (e)"
            >
              Close
            </button>
            {open ? null : (
              <button
                type="button"
                data-part="reopen"
                disabled={busy("reopen")}
                onClick={() => void c.outbox.reopen(id)}
                title="Reopen and hold this conversation"
              >
                Reopen
              </button>
            )}
          </div>
        </header>
        {transferring && open ? (
          <div class="transfer">
            <label>
              Transfer to{" "}
              <select
                data-part="transfer-target"
                value={chosen}
                onChange={(e) => setTarget((e.currentTarget as HTMLSelectElement).value)}
              >
                {targets.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                    {a.is_online ? " (online)" : " (offline)"}
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
              Transfer
            </button>
            <button type="button" class="quiet" onClick={() => setTransferring(false)}>
              Cancel
            </button>
            {targets.length === 0 ? <span class="hint">There is no other agent.</span> : null}
          </div>
        ) : null}
        {thread.channel === "email" ? (
          <p class="email-notice" data-part="email-notice">
            Replies are sent by email to <strong>{thread.email}</strong>
          </p>
        ) : null}
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
                Could not load messages ({log.error}). Retry
              </button>
            ) : log.loading ? (
              "Loading…"
            ) : log.before ? (
              <button type="button" class="link" onClick={() => void c.reads.loadHistory(id, true)}>
                Load earlier messages
              </button>
            ) : log.before === null ? (
              "Start of the conversation"
            ) : (
              ""
            )}
          </div>
          <ol class="message-list" aria-live="polite">
            {shown.map((m) => (
              <MessageItem key={m.key} c={c} m={m} threadId={id} visitorName={name} />
            ))}
          </ol>
        </div>
        <p class="typing" data-part="typing" hidden={!typing} aria-live="polite">
          {typing ? `${typing.who} is typing…` : ""}
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
        <form
          class="composer"
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
            aria-label="Reply"
            value={draft}
            disabled={!open}
            placeholder={
              open
                ? "Reply… (Enter sends, Shift+Enter for a new line, / for canned responses)"
                : "This conversation is over."
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
          <button type="submit" class="primary" data-part="send" disabled={!open}>
            Send
          </button>
        </form>
      </section>
      <VisitorPanel c={c} thread={thread} />
    </div>
  );
}

function MessageItem({
  c,
  m,
  threadId,
  visitorName,
}: {
  c: Console;
  m: Shown;
  threadId: string;
  visitorName: string;
}) {
  const own = m.sender_type === "agent" && m.sender_id === c.me?.id;
  const who =
    m.sender_type === "visitor"
      ? m.sender_name && m.sender_name !== "Visitor"
        ? m.sender_name
        : visitorName
      : own
        ? "You"
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
        <time dateTime={m.created_at}>{clock(m.created_at)}</time>
        {cameByEmail(m) ? (
          <span class="via" data-part="via-email">
            via email
          </span>
        ) : null}
        {m.state === "sending" ? <span class="state">Sending…</span> : null}
      </div>
      <div class="content" data-part="content">
        {m.content}
      </div>
      {m.state === "failed" && m.client_id ? (
        <div class="failed">
          <span>Not sent: {m.error}</span>{" "}
          <button
            type="button"
            class="link"
            data-part="retry"
            onClick={() => m.client_id && c.outbox.retryMessage(threadId, m.client_id)}
          >
            Retry
          </button>{" "}
          <button
            type="button"
            class="link"
            onClick={() => m.client_id && c.outbox.discardMessage(threadId, m.client_id)}
          >
            Discard
          </button>
        </div>
      ) : null}
    </li>
  );
}
