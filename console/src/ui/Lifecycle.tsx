import { useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import type { Message, Thread } from "../protocol";

/** Under a conversation: download its transcript; an admin deletes a closed one (restorable
 * from the Deleted list). */
export function Lifecycle({ c, id, open }: { c: Console; id: string; open: boolean }) {
  const [error, setError] = useState("");
  const admin = c.me?.role === "admin";
  const run = (work: () => Promise<void>) => {
    setError("");
    work().catch((err: unknown) => setError(errorText(err)));
  };
  return (
    <div class="lifecycle" data-part="lifecycle">
      <button type="button" class="link" data-part="transcript" onClick={() => run(() => downloadTranscript(c, id))}>
        Download transcript
      </button>
      {admin && !open ? (
        <button
          type="button"
          class="link danger"
          data-part="delete-thread"
          onClick={() =>
            run(async () => {
              await c.auth.api<null>("DELETE", `/threads/${encodeURIComponent(id)}`);
              c.threads.remove(id);
              c.changed();
            })
          }
        >
          Delete conversation
        </button>
      ) : null}
      {error ? <span class="error" role="alert">{error}</span> : null}
    </div>
  );
}

/** The conversation as text, saved by the browser (the JSON route, so the token refreshes). */
async function downloadTranscript(c: Console, id: string): Promise<void> {
  const path = `/threads/${encodeURIComponent(id)}/transcript?format=json`;
  const t = await c.auth.api<{ thread: Thread; messages: Message[] }>("GET", path);
  const lines = t.messages.map((m) => `[${m.created_at}] ${m.sender_name}: ${m.content}`);
  const text = [`Conversation ${id}`, `Started ${t.thread.created_at}`, "", ...lines, ""].join("\n");
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `transcript-${id}.txt`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
