// The widget's languages (src/i18n.ts): which one a visitor gets, plural forms, and catalogues
// that match the English one key for key (scripts/locales.ts refuses to build otherwise).

import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { catalogues, problems } from "../scripts/locales";
import { Language, LOCALES, language, pickLocale, t, use } from "../src/i18n";
import { type Catalogue, en } from "../src/locales/en";

const AVAILABLE = ["en", "de", "fr", "es", "ar", "pt"];
const parsed = (lang: string): Catalogue =>
  JSON.parse(catalogues().find((c) => c.lang === lang)?.json ?? "null") as Catalogue;

test("the browser's languages pick the first available, by region or by language alone", () => {
  assert.equal(pickLocale(["de-AT", "en"], AVAILABLE), "de");
  assert.equal(pickLocale(["DE"], AVAILABLE), "de", "any case");
  assert.equal(pickLocale(["zh-CN", "fr-CA", "de"], AVAILABLE), "fr", "in the visitor's order");
  assert.equal(pickLocale(["en-GB", "de"], AVAILABLE), "en", "English is a match too");
  assert.equal(pickLocale(["zh", "ja"], AVAILABLE), "en", "none: English");
  assert.equal(pickLocale([], AVAILABLE), "en");
  assert.equal(pickLocale(["pt-BR"], [...AVAILABLE, "pt-br"]), "pt-br", "the region itself first");
});

test("every catalogue has exactly the English keys, plural forms and parameters", () => {
  const langs = catalogues().map((c) => c.lang);
  assert.deepEqual(langs, ["ar", "de", "es", "fr", "pt"]);
  assert.deepEqual(Object.keys(LOCALES).sort(), langs, "the build's hashes name them all");
  for (const lang of langs) {
    const catalogue = parsed(lang);
    assert.deepEqual(problems(catalogue), [], lang);
    assert.deepEqual(Object.keys(catalogue).sort(), Object.keys(en).sort(), lang);
  }
  // The check itself finds what is wrong.
  const { open: _, ...missing } = parsed("de");
  assert.deepEqual(problems({ ...missing, extra: "x" }), ["missing open", "extra extra"]);
  assert.deepEqual(problems({ ...parsed("de"), chatWith: "Chat" }), ["chatWith: other parameters"]);
  assert.deepEqual(problems({ ...parsed("de"), unread: "ungelesen" }), ["unread: plural forms differ"]);
});

test("counts take the language's plural form (Intl.PluralRules)", () => {
  try {
    assert.equal(t("unread", { n: 1 }), "1 unread message");
    assert.equal(t("unread", { n: 3 }), "3 unread messages");
    use("de", parsed("de"));
    assert.equal(t("wait", { n: 1 }), "Wartezeit etwa 1 Minute.");
    assert.equal(t("wait", { n: 5 }), "Wartezeit etwa 5 Minuten.");
    use("fr", parsed("fr"));
    assert.equal(t("unread", { n: 0 }), "0 message non lu", "French: 0 is singular");
    assert.equal(t("unread", { n: 2 }), "2 messages non lus");
    use("ar", parsed("ar"));
    assert.equal(t("unread", { n: 1 }), "رسالة واحدة غير مقروءة");
    assert.equal(t("unread", { n: 2 }), "رسالتان غير مقروءتين");
    assert.equal(t("unread", { n: 3 }), "3 رسائل غير مقروءة", "few: 3 to 10");
    assert.equal(t("unread", { n: 11 }), "11 رسالة غير مقروءة", "many: 11 to 99");
    assert.equal(t("chatWith", { name: "متجر" }), "محادثة مع متجر");
  } finally {
    use("en", en);
  }
});

test("the language is setLocale's, else the space's, else the browser's; late answers lose", async () => {
  const asked: string[] = [];
  const fake = mock.method(globalThis, "fetch", async (url: string) => {
    asked.push(url);
    const lang = /locales\/(\w+)\./.exec(url)?.[1] ?? "";
    return new Response(JSON.stringify(parsed(lang)), { status: 200 });
  });
  const browser = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  Object.defineProperty(globalThis, "navigator", { value: { languages: ["de-AT", "en"] }, configurable: true });
  const heard: string[] = [];
  const settle = () => new Promise((done) => setTimeout(done, 0));
  try {
    const chosen = new Language("https://chat.test", (lang) => heard.push(lang));
    chosen.choose();
    await settle();
    assert.deepEqual(heard, ["de"]);
    assert.equal(asked[0], `https://chat.test/widget/locales/de.${LOCALES.de}.json`);
    assert.equal(t("open"), "Chat öffnen");
    chosen.space = "fr"; // the space's setting beats the browser
    chosen.choose();
    chosen.fixed = "ar"; // setLocale beats both; fr's answer comes too late to count
    chosen.choose();
    await settle();
    assert.deepEqual(heard, ["de", "ar"]);
    assert.equal(language(), "ar");
    chosen.fixed = "";
    chosen.choose();
    await settle();
    assert.deepEqual(heard, ["de", "ar", "fr"]);
    assert.equal(asked.length, 3, "fr was fetched once");
    chosen.space = "en"; // English is built in: nothing fetched
    chosen.choose();
    await settle();
    assert.deepEqual(heard.at(-1), "en");
    assert.equal(t("open"), "Open chat");
    assert.equal(asked.length, 3);
  } finally {
    fake.mock.restore();
    if (browser) Object.defineProperty(globalThis, "navigator", browser);
    else Reflect.deleteProperty(globalThis, "navigator");
    use("en", en);
  }
});

test("a catalogue that does not load leaves English, and is asked for again next time", async () => {
  let answer = 404;
  const fake = mock.method(globalThis, "fetch", async () =>
    answer === 200 ? new Response(JSON.stringify(parsed("es")), { status: 200 }) : new Response("", { status: answer }),
  );
  const heard: string[] = [];
  const settle = () => new Promise((done) => setTimeout(done, 0));
  try {
    const chosen = new Language("https://chat.test", (lang) => heard.push(lang));
    chosen.fixed = "es";
    chosen.choose();
    await settle();
    assert.deepEqual(heard, ["en"]);
    assert.equal(t("send"), "Send message");
    answer = 200;
    chosen.choose();
    await settle();
    assert.deepEqual(heard, ["en", "es"]);
    assert.equal(t("send"), "Enviar mensaje");
    assert.equal(fake.mock.callCount(), 2);
  } finally {
    fake.mock.restore();
    use("en", en);
  }
});
