import { useState } from "preact/hooks";
import { errorText } from "../api";
import type { Console } from "../console";
import { t } from "../i18n";
import type { Space } from "../protocol";

// The widget's language for every visitor of the space (README "Languages"): "auto" follows the
// visitor's browser. Names as each language writes itself; the codes are chat/space_settings.py's.
const LANGUAGES = [
  ["en", "English"],
  ["ar", "العربية"],
  ["de", "Deutsch"],
  ["es", "Español"],
  ["fr", "Français"],
  ["pt", "Português"],
];

export function SpaceLocaleField({
  c,
  space,
  replace,
}: {
  c: Console;
  space: Space;
  replace: (updated: Space) => void;
}) {
  const [error, setError] = useState("");
  const pick = async (locale: string) => {
    setError("");
    try {
      const settings = { locale };
      replace(await c.auth.api<Space>("PATCH", `/spaces/${encodeURIComponent(space.id)}`, { settings }));
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <div class="space-edit">
      <label>
        {t("widgetLanguage")}
        <select
          data-part="space-locale"
          value={String(space.settings?.locale ?? "auto")}
          onChange={(e) => void pick((e.currentTarget as HTMLSelectElement).value)}
        >
          <option value="auto">{t("auto")}</option>
          {LANGUAGES.map(([code, name]) => (
            <option key={code} value={code}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <span class="error small" role="alert" hidden={!error}>
        {error}
      </span>
    </div>
  );
}
