// The composer (Enter sends, Shift+Enter breaks the line) and the pre-chat / offline form.
// Both are uncontrolled: the draft lives in the textarea, so a re-render never touches it.
// The paperclip opens a file picker; the chosen file is uploaded and sent with the draft.

import { Component } from "preact";
import type { Chat, State } from "../chat";
import { t } from "../i18n";
import { lazy } from "../lazy";
import type { EmojiPickerProps } from "../lazy/emoji";
import { ClipIcon, SendIcon, SmileIcon } from "./icons";

const EmojiPicker = lazy<EmojiPickerProps>("emoji");

/** The emoji button and, once pressed, the picker (a lazy chunk: fetched on the first press).
 * A pick goes in at the input's caret (or over its selection), and focus goes back there. */
class Emoji extends Component<{ chat: Chat }, { open?: boolean }> {
  private input(): HTMLTextAreaElement | null {
    const form = (this.base as Element | undefined)?.closest?.("form");
    return (form?.elements.namedItem("message") as HTMLTextAreaElement | null) ?? null;
  }

  private readonly close = () => {
    this.setState({ open: false });
    this.input()?.focus();
  };

  private readonly insert = (emoji: string) => {
    const input = this.input();
    if (!input) return;
    input.setRangeText(emoji, input.selectionStart, input.selectionEnd, "end");
    this.props.chat.typing(input.value);
  };

  override render() {
    const open = Boolean(this.state.open);
    return (
      <div>
        {open && (
          <div class="pop">
            <EmojiPicker onPick={this.insert} onClose={this.close} />
          </div>
        )}
        <button
          type="button"
          class="send clip"
          data-part="emoji"
          aria-label={t("emoji")}
          aria-haspopup="dialog"
          aria-expanded={open}
          onClick={() => (open ? this.close() : this.setState({ open: true }))}
        >
          <SmileIcon />
        </button>
      </div>
    );
  }
}

export function Composer({ chat }: { chat: Chat }) {
  const send = (input: HTMLTextAreaElement) => {
    if (chat.send(input.value)) input.value = "";
    input.focus();
  };
  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        send(event.currentTarget.elements.namedItem("message") as HTMLTextAreaElement);
      }}
    >
      <textarea
        class="input"
        data-part="input"
        name="message"
        rows={1}
        placeholder={t("placeholder")}
        aria-label={t("yourMessage")}
        onInput={(event) => chat.typing(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            send(event.currentTarget);
          }
        }}
      />
      <Emoji chat={chat} />
      <input
        type="file"
        hidden
        data-part="file"
        onChange={async (event) => {
          const picker = event.currentTarget;
          const file = picker.files?.[0];
          picker.value = ""; // the same file may be chosen again
          const input = picker.form?.elements.namedItem("message") as HTMLTextAreaElement | null;
          if (file && input && (await chat.attach(file, input.value))) input.value = "";
        }}
      />
      <button
        type="button"
        class="send clip"
        data-part="attach"
        aria-label={t("attach")}
        // An upload needs the session token of a first welcome; one file at a time.
        disabled={chat.state.uploading || chat.state.status !== "connected"}
        onClick={(event) => (event.currentTarget.previousSibling as HTMLInputElement).click()}
      >
        <ClipIcon />
      </button>
      <button type="submit" class="send" data-part="send" aria-label={t("send")}>
        <SendIcon />
      </button>
    </form>
  );
}

// The pre-chat / offline form is a lazy chunk (src/lazy/prechat.tsx): most visitors find
// someone online and never see it.
export const Prechat = lazy<{ chat: Chat; s: State }>("prechat");
