// Issue 17's visitor screens that "close the loop", one lazy chunk (README "Lazy chunks"): the
// away screen outside business hours (away.tsx), the rating after a close (rating.tsx) and
// "Email me the transcript" (transcript.tsx). One chunk rather than three: each chunk's name and
// SRI hash cost widget.js, which every page downloads, about 70 bytes gzipped, while the three
// together are 1.5 KB gzipped, fetched only by a visitor who meets one of them. Plain props.

import Away, { type AwayProps } from "./away";
import Rating, { type RatingProps } from "./rating";
import TranscriptForm, { type TranscriptProps } from "./transcript";

export interface LoopProps {
  /** The away screen (outside business hours). */
  away?: AwayProps;
  /** The rating form, after a close. */
  rating?: RatingProps;
  /** The transcript form (when the service can send mail). */
  transcript?: TranscriptProps;
}

export default function Loop({ away, rating, transcript }: LoopProps) {
  return (
    <>
      {away && <Away {...away} />}
      {rating && <Rating {...rating} />}
      {transcript && <TranscriptForm {...transcript} />}
    </>
  );
}
