// Files in the widget (structures.md, "Attachments"): the upload, and the signed links that show
// a message's file. Both routes are cross-origin from the host page, with the session token in
// X-Chat-Session (the service answers their preflight for the space's allowed origins only).
// Links live 5 minutes: one is asked for when a message with a file is shown, reused until
// shortly before it expires, and asked for again then.

import type { Embed } from "./embed";
import { t } from "./i18n";
import type { AttachmentLink } from "./protocol";

// A link this close to its expiry is replaced (a slow download still starts in time).
const LINK_MARGIN_MS = 30_000;
// After a failed ask, the next one comes this long later, less LINK_MARGIN_MS (so about 30 s).
const LINK_RETRY_MS = 60_000;

/** What the visitor is told when an upload fails, by the server's error code. */
export function uploadError(code: string, maxBytes?: number): string {
  if (code === "too_large") {
    return maxBytes ? t("tooLargeMax", { n: Math.floor(maxBytes / 1e6) }) : t("tooLarge");
  }
  return t(code === "file_type_not_allowed" ? "fileType" : "fileFailed");
}

export class Files {
  private readonly links = new Map<string, { url: string; until: number }>();
  private readonly asking = new Set<string>();

  constructor(
    private readonly embed: Embed,
    /** Called when a link arrives, to show it. */
    private readonly changed: () => void,
  ) {}

  private base(): string {
    return `${this.embed.http}/api/v1/widget/${encodeURIComponent(this.embed.key)}/attachments`;
  }

  /** Upload the file; the link's answer, or the error code. Never throws. */
  async upload(file: File, session: string): Promise<AttachmentLink | string> {
    try {
      const reply = await fetch(`${this.base()}?name=${encodeURIComponent(file.name || "file")}`, {
        method: "POST",
        body: file,
        credentials: "omit",
        // The declared type is ignored (the server sniffs the bytes); this one is always listed.
        headers: { "Content-Type": "application/octet-stream", "X-Chat-Session": session },
      });
      const body = await reply.json();
      if (!reply.ok) return String(body?.error?.code ?? "error");
      this.keep(body as AttachmentLink);
      return body as AttachmentLink;
    } catch {
      return "error";
    }
  }

  /** A link to the file: the one known (even near its end, while a fresh one is asked for),
   * or undefined until the first arrives. */
  link(id: string, session: string | null): string | undefined {
    if (!this.fresh(id)) void this.ask(id, session);
    return this.links.get(id)?.url || undefined;
  }

  /** The link is good for a while yet (LINK_MARGIN_MS). */
  fresh(id: string): boolean {
    return (this.links.get(id)?.until ?? 0) - LINK_MARGIN_MS > Date.now();
  }

  /** Ask for a fresh link (once at a time per file); it is kept and shown. */
  async ask(id: string, session: string | null): Promise<string | undefined> {
    if (!session || this.asking.has(id)) return undefined;
    this.asking.add(id);
    try {
      const reply = await fetch(`${this.base()}/${encodeURIComponent(id)}/link`, {
        credentials: "omit",
        headers: { "X-Chat-Session": session },
      });
      if (!reply.ok) throw new Error(String(reply.status));
      return this.keep(await reply.json());
    } catch {
      // Not asked again on every render, only after a while (a file since erased stays its
      // name without a link).
      const url = this.links.get(id)?.url ?? "";
      this.links.set(id, { url, until: Date.now() + LINK_RETRY_MS });
      return undefined;
    } finally {
      this.asking.delete(id);
      this.changed();
    }
  }

  private keep(link: AttachmentLink): string {
    const url = this.embed.http + link.url;
    this.links.set(link.attachment.id, { url, until: Date.parse(link.expires_at) || 0 });
    return url;
  }
}
