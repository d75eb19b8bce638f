// "Email me the transcript" (structures.md "Transcripts and export"): an email field, prefilled
// with the visitor's when known, and the outcome. Part of the `loop` chunk (loop.tsx), fetched
// after a close or from "Email transcript". The request is the chunk's as well, so widget.js
// carries none of it: POST <the conversation's transcript URL>/email, cross-origin, with the
// visitor's session token in X-Chat-Session (as the attachment routes).

import { Component } from "preact";
import { t } from "../i18n";

export type Mailed = "" | "sending" | "sent" | "limited" | "failed";

export interface TranscriptProps {
  /** The visitor's email when known: the field's default. */
  email: string;
  /** Chat.transcriptUrl(): the conversation's transcript, its `session` the visitor's token. */
  url: string;
}

/** Ask the service to email the transcript at `url` to `email`. Never throws. */
export async function mailTranscript(url: string, email: string): Promise<Exclude<Mailed, "" | "sending">> {
  const at = new URL(url);
  try {
    const reply = await fetch(`${at.origin}${at.pathname}/email`, {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", "X-Chat-Session": at.searchParams.get("session") ?? "" },
      body: JSON.stringify({ email }),
    });
    return reply.ok ? "sent" : reply.status === 429 ? "limited" : "failed";
  } catch {
    return "failed";
  }
}

/** The form; its outcome is its own state (gone with the form: a new conversation, or the
 * "Email transcript" button pressed again). */
export default class TranscriptForm extends Component<TranscriptProps, { mailed?: Mailed }> {
  private readonly send = async (email: string) => {
    if (!email || this.state.mailed === "sending") return;
    this.setState({ mailed: "sending" });
    this.setState({ mailed: await mailTranscript(this.props.url, email) });
  };

  override render() {
    const mailed = this.state.mailed ?? "";
    return (
      <form
        class="panel rating"
        data-part="transcript-form"
        aria-label={t("mailTranscript")}
        onSubmit={(event) => {
          event.preventDefault();
          const field = event.currentTarget.elements.namedItem("email") as HTMLInputElement;
          void this.send(field.value.trim());
        }}
      >
        <input class="field" name="email" type="email" required maxLength={254} autocomplete="email" defaultValue={this.props.email} placeholder={t("email")} aria-label={t("email")} />
        <button type="submit" class="primary" data-part="transcript-send" disabled={mailed === "sending"}>
          {t("mailTranscript")}
        </button>
        {mailed && mailed !== "sending" && (
          <p data-part="transcript-state" role="status">
            {t(mailed === "sent" ? "mailSent" : mailed === "limited" ? "mailLimited" : "mailFailed")}
          </p>
        )}
      </form>
    );
  }
}
