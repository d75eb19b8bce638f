// Attachments in the console (structures.md, "Attachments"): upload a file to a thread, and
// signed links to show files, asked for when shown and kept until shortly before they expire.
import type { Console } from "./console";
import type { Attachment } from "./protocol";

export interface AttachmentLink {
  attachment: Attachment & { kind: "image" | "pdf" | "text"; created_at: string };
  url: string;
  expires_at: string;
}

// A link this close to its expiry is asked for again rather than shown.
const LINK_MARGIN_MS = 30_000;
const links = new Map<string, AttachmentLink>();

function fresh(link: AttachmentLink | undefined, now: number): link is AttachmentLink {
  return !!link && Date.parse(link.expires_at) - LINK_MARGIN_MS > now;
}

/** Upload `file` to the thread; the server sniffs its type and checks the space's limits. */
export async function uploadFile(c: Console, threadId: string, file: File): Promise<Attachment> {
  const path = `/threads/${encodeURIComponent(threadId)}/attachments?name=${encodeURIComponent(
    file.name || "file",
  )}`;
  const link = await c.auth.api<AttachmentLink>("POST", path, file);
  links.set(link.attachment.id, link);
  return link.attachment;
}

/** A signed URL to the file, fresh enough to load now. */
export async function linkTo(c: Console, id: string): Promise<string> {
  const known = links.get(id);
  if (fresh(known, Date.now())) return known.url;
  const link = await c.auth.api<AttachmentLink>(
    "GET",
    `/attachments/${encodeURIComponent(id)}/link`,
  );
  links.set(id, link);
  return link.url;
}

export function isImage(a: Attachment): boolean {
  return a.content_type.startsWith("image/");
}

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
