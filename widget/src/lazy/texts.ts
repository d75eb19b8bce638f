// The texts of the away screen, the rating form and the transcript form, in one place for the catalogue (i18n).
// English; `back` gets the day and time formatted by Intl in the visitor's locale and zone.

export const closeLoopTexts = {
  backToday: (time: string) => `Back today at ${time}`,
  backTomorrow: (time: string) => `Back tomorrow at ${time}`,
  backOn: (day: string, time: string) => `Back ${day} at ${time}`,
  rateQuestion: "How was this conversation?",
  good: "Good",
  bad: "Bad",
  commentLabel: "Tell us more (optional)",
  sendRating: "Send",
  thanks: "Thanks for your feedback!",
  failed: "Your rating could not be sent. Try again.",
  mailTranscript: "Email me the transcript",
  mailMenu: "Email transcript",
  mailSent: "Sent! Check your inbox.",
  mailLimited: "Too many emails for now. Try again later.",
  mailFailed: "The email could not be sent. Try again.",
};
