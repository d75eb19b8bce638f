// "Email transcript" under an open conversation (README "Transcripts, export, deleting"): the
// button, and once pressed the transcript form (the `loop` chunk). Whether it is open is this
// component's own state, not Chat's: nothing else reads it, and it goes with the button (the
// conversation's end, a new one).

import { Component } from "preact";
import { t } from "../i18n";
import { lazy } from "../lazy";
import type { LoopProps } from "../lazy/loop";

const Loop = lazy<LoopProps>("loop");

export class EmailTranscript extends Component<{ email: string; url: string }, { open?: boolean }> {
  override render() {
    return (
      <>
        <button type="button" class="transcript" data-part="transcript-mail" onClick={() => this.setState({ open: !this.state.open })}>
          {t("mailTranscript")}
        </button>
        {this.state.open && <Loop transcript={this.props} />}
      </>
    );
  }
}
