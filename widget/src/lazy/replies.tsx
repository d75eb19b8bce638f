// Quick replies (README "Built-in bot"): the buttons an agent's or bot's last message offers, a
// chunk of its own inside the window's (src/chunks.ts INNER_CHUNKS), fetched the first time a
// message with buttons shows. Pressing one sends its label as the visitor's message; the buttons
// go once a newer message is the last (Conversation.tsx shows the last message's only).

export interface RepliesProps {
  labels: string[];
  onPick: (label: string) => void;
}

export default function Replies({ labels, onPick }: RepliesProps) {
  return (
    <div class="replies" data-part="quick-replies" role="group">
      {labels.map((label) => (
        <button type="button" class="reply" data-part="quick-reply" onClick={() => onPick(label)}>
          {label}
        </button>
      ))}
    </div>
  );
}

export { default as css } from "./replies.css?inline";
