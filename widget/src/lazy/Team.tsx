// The header's faces, names and reply time (structures.md "Appearance"). Plain props, no hooks:
// a picture that cannot load (a host page's CSP without the service in img-src, or a network
// error) hides itself and the initials under it show.

import { hue, initials, names, readTeam, replyLine } from "./team";

/** `team` and `reply` are the widget config's, unchecked; `service` the chat origin. */
export function Team(props: { team: unknown; reply: unknown; service: string }) {
  const view = readTeam(props.team, props.reply, props.service);
  const reply = replyLine(view.reply);
  if (!view.faces.length && !reply) return null;
  return (
    <div class="team" data-part="team">
      {view.faces.length > 0 && (
        <span class="faces" aria-hidden="true">
          {view.faces.map((f) => (
            <span class="face" data-part="face" style={{ background: hue(f.name) }}>
              {initials(f.name)}
              {f.avatar && (
                <img
                  src={f.avatar}
                  alt=""
                  referrerpolicy="no-referrer"
                  onError={(event) => {
                    event.currentTarget.hidden = true;
                  }}
                />
              )}
            </span>
          ))}
        </span>
      )}
      <span class="team-text">
        {view.faces.length > 0 && <span data-part="team-names">{names(view.faces, view.others)}</span>}
        {reply && (
          <span class="reply" data-part="reply-time">
            {reply}
          </span>
        )}
      </span>
    </div>
  );
}
