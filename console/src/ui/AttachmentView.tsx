import { useEffect, useState } from "preact/hooks";
import { errorText } from "../api";
import { isImage, linkTo, sizeText, uploadFile } from "../attachments";
import type { Console } from "../console";
import type { Attachment } from "../protocol";

// Drawn, not an emoji: not every system has a font with U+1F4CE.
function Paperclip() {
  return (
    <svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
      <path d="M21 12.5l-8.5 8.5a5 5 0 0 1-7-7l9-9a3.5 3.5 0 0 1 5 5l-9 9a2 2 0 0 1-3-3l8.5-8.5" />
    </svg>
  );
}

/** A message's file: images small (a thumbnail that opens the full image), others a download. */
export function AttachmentView({ c, a }: { c: Console; a: Attachment }) {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let live = true;
    linkTo(c, a.id).then(
      (u) => live && setUrl(u),
      (err) => live && setError(errorText(err)),
    );
    return () => {
      live = false;
    };
  }, [c, a.id]);
  if (error) return <div class="attachment error">{`${a.name}: ${error}`}</div>;
  if (isImage(a))
    return (
      <a
        class="attachment image"
        data-part="attachment"
        href={url ?? undefined}
        target="_blank"
        rel="noopener noreferrer"
      >
        {url ? <img src={url} alt={a.name} loading="lazy" /> : <span>{a.name}</span>}
      </a>
    );
  return (
    <a
      class="attachment file"
      data-part="attachment"
      href={url ?? undefined}
      download={a.name}
      rel="noopener noreferrer"
    >
      <Paperclip /> {a.name} <span class="size">({sizeText(a.size)})</span>
    </a>
  );
}

/** The composer's attach button: uploads the chosen file and sends it with the reply's text. */
export function AttachButton({
  c,
  threadId,
  disabled,
  send,
}: {
  c: Console;
  threadId: string;
  disabled: boolean;
  send: (a: Attachment) => void;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <label
      class={`attach${busy ? " busy" : ""}`}
      title="Attach a file (images, PDF, text)"
      aria-label="Attach a file"
    >
      <Paperclip />
      <input
        type="file"
        data-part="attach"
        hidden
        disabled={disabled || busy}
        accept="image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain"
        onChange={(e) => {
          const input = e.currentTarget as HTMLInputElement;
          const file = input.files?.[0];
          input.value = "";
          if (!file) return;
          setBusy(true);
          uploadFile(c, threadId, file)
            .then(send, (err) => {
              c.threadErrors.set(threadId, `Could not attach ${file.name}: ${errorText(err)}`);
              c.changed();
            })
            .finally(() => setBusy(false));
        }}
      />
    </label>
  );
}
