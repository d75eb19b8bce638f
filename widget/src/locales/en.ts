// The widget's English texts: built into widget.js, and the reference every other catalogue
// (widget/locales/<lang>.json, loaded on demand) must match key for key (scripts/locales.ts
// checks at build time, test/widget.test.ts too). A value with plural forms is an object keyed
// by Intl.PluralRules categories (`other` always present); `{n}` and `{name}` are parameters.

export const en = {
  open: "Open chat",
  close: "Close chat",
  unread: { one: "{n} unread message", other: "{n} unread messages" },
  chatWith: "Chat with {name}",
  online: "Online",
  offline: "Offline",
  connecting: "Connecting…",
  connected: "Connected",
  noConnection: "No connection",
  transcript: "Download transcript",
  unavailable: "Chat is not available right now.",
  ended: "This conversation has ended. Write below to continue it.",
  newChat: "Start a new conversation",
  queueNext: "You are next in the queue.",
  queuePlace: "You are number {n} in the queue.",
  wait: { one: "Wait about {n} minute.", other: "Wait about {n} minutes." },
  shortly: "An agent will be with you shortly.",
  chattingWith: "You are chatting with {name}",
  topic: "Topic",
  chooseTopic: "Choose a topic",
  thanks: "Thanks! We will get back to you.",
  agent: "Agent",
  sending: "Sending…",
  sent: "Sent",
  failed: "Not sent",
  seen: "Seen",
  retry: "Retry",
  retryLabel: "Retry sending this message",
  messages: "Messages",
  typing: "Agent is typing",
  placeholder: "Write a message…",
  yourMessage: "Your message",
  attach: "Attach a file",
  send: "Send message",
  details: "Leave your details",
  busy: "All our agents are busy right now. Leave your email and we will get back to you.",
  nobody: "No one is online right now. Leave your email and we will get back to you.",
  name: "Name",
  email: "Email",
  submit: "Send",
  greeting: "Hi! How can we help?",
  tooLong: "A message can be at most {n} characters.",
  tooLarge: "This file is too large.",
  tooLargeMax: "This file is too large (at most {n} MB).",
  fileType: "This type of file cannot be sent.",
  fileFailed: "The file could not be sent. Please try again.",
  signIn: "Please sign in on this site to chat.",
  newMessage: "New message",
};

/** A catalogue: the English keys, each a text or its plural forms. */
export type Catalogue = { [K in keyof typeof en]: string | Partial<Record<Intl.LDMLPluralRule, string>> };
export type Key = keyof typeof en;
