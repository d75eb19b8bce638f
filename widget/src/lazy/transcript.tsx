// "Email me the transcript" (structures.md "Transcripts and export"): an email field, prefilled
// with the visitor's when known, and the outcome. A lazy chunk (README "Lazy chunks"), fetched
// after a close or from "Email transcript"; plain props.

import { closeLoopTexts as t } from "./texts";

export type MailState = "" | "sending" | "sent" | "limited" | "failed";

export interface TranscriptProps {
  email: string;
  state: MailState;
  onSend: (email: string) => void;
}

export default function TranscriptForm({ email, state, onSend }: TranscriptProps) {
  return (
    <form
      class="panel rating"
      data-part="transcript-form"
      aria-label={t.mailTranscript}
      onSubmit={(event) => {
        event.preventDefault();
        const field = event.currentTarget.elements.namedItem("email") as HTMLInputElement;
        onSend(field.value.trim());
      }}
    >
      <input class="field" name="email" type="email" required maxLength={254} autocomplete="email" defaultValue={email} placeholder="Email" aria-label="Email" />
      <button type="submit" class="primary" data-part="transcript-send" disabled={state === "sending"}>
        {t.mailTranscript}
      </button>
      {state && state !== "sending" && (
        <p data-part="transcript-state" role="status">
          {state === "sent" ? t.mailSent : state === "limited" ? t.mailLimited : t.mailFailed}
        </p>
      )}
    </form>
  );
}
