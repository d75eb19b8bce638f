// POST {service}/api/v1/widget/{key}/threads/{id}/transcript/email (structures.md "Transcripts
// and export"): the transcript mailed to the visitor. Cross-origin with the session token in
// X-Chat-Session, as the attachment routes. Never throws.

import type { Embed } from "./embed";

export async function mailTranscript(
  embed: Embed,
  session: string,
  threadId: string,
  email: string,
): Promise<"sent" | "limited" | "failed"> {
  const key = encodeURIComponent(embed.key);
  try {
    const reply = await fetch(`${embed.http}/api/v1/widget/${key}/threads/${threadId}/transcript/email`, {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", "X-Chat-Session": session },
      body: JSON.stringify({ email }),
    });
    return reply.ok ? "sent" : reply.status === 429 ? "limited" : "failed";
  } catch {
    return "failed";
  }
}
