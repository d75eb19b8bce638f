// The "botrules" chunk (vite.config.ts): the built-in bot's rules editor, an admin page fetched
// the first time it opens (ui/App.tsx); a chunk of its own, as the reports page is, so the admin
// chunk does not grow for organizations that never use the bot.

export { BotRulesPage } from "./BotRulesPage";
