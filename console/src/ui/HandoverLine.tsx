import type { Console } from "../console";
import { t, type Key } from "../i18n";
import type { Shown } from "../messages";
import { type Handover, isBot, ms, type Thread } from "../protocol";

// A bot's handover in a conversation's timeline (README "Bots"): where the bot gave the
// conversation to people, and why. The live `thread.updated` frame says when and why; a
// conversation read later (a reload: the subscribe snapshot's thread still names its bot in
// `bot_agent_id`) shows the line after the bot's last message, without the why.

const REASONS: Record<string, Key> = {
  requested: "handoverRequested",
  visitor_asked: "handoverVisitorAsked",
  unanswered: "handoverUnanswered",
  bot_gone: "handoverBotGone",
};

/** The thread's handover, if it has left its bot: the live frame's, else what its JSON says. */
export function handoverOf(c: Console, thread: Thread): Handover | null {
  const seen = c.handovers.get(thread.id);
  if (seen) return seen;
  const bot = thread.bot_agent_id;
  if (!bot || thread.assigned_agent_id === bot) return null; // no bot, or the bot holds it
  return { bot_id: bot };
}

/** Whether the message is a bot's: its sender is an agent of kind bot, or the conversation's
 * bot (known from the log even before GET /agents answers). */
export function fromBot(c: Console, m: Pick<Shown, "sender_type" | "sender_id">, thread?: Thread): boolean {
  if (m.sender_type !== "agent") return false;
  return isBot(c.agents.get(m.sender_id)) || m.sender_id === thread?.bot_agent_id;
}

/** `items` with the handover put in its place: by time when known, else after the bot's last
 * message (or last, when the bot wrote nothing that is loaded). */
export function placeHandover<T extends { created_at: string; sender_id?: string }>(
  items: T[],
  handover: Handover | null,
): (T | Handover)[] {
  if (!handover) return items;
  let at = items.length;
  if (handover.at) {
    const when = ms(handover.at);
    const later = items.findIndex((item) => ms(item.created_at) > when);
    if (later >= 0) at = later;
  } else {
    for (let i = items.length - 1; i >= 0; i--) {
      if (items[i].sender_id === handover.bot_id) {
        at = i + 1;
        break;
      }
    }
  }
  return [...items.slice(0, at), handover, ...items.slice(at)];
}

export const isHandover = (item: object): item is Handover => "bot_id" in item;

export function HandoverLine({ c, h }: { c: Console; h: Handover }) {
  const name = c.agents.get(h.bot_id)?.name ?? t("botBadge");
  const why = h.reason && REASONS[h.reason] ? t(REASONS[h.reason]) : "";
  return (
    <li class="message from-system" data-part="handover" data-reason={h.reason ?? ""}>
      <div class="content">
        {t("handedOver", { name })}
        {why ? `: ${why}` : ""}
      </div>
      {h.note ? (
        <div class="via" data-part="handover-note">
          {h.note}
        </div>
      ) : null}
    </li>
  );
}
