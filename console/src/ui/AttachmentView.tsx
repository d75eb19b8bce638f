import { useEffect, useState } from "preact/hooks";
import { errorText } from "../api";
import { isImage, linkTo, sizeText, uploadFile } from "../attachments";
import type { Console } from "../console";
import type { Attachment } from "../protocol";

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
      📎 {a.name} <span class="size">({sizeText(a.size)})</span>
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
      <span aria-hidden="true">📎</span>
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
