import { localisedText } from "../../../domain/standards/framework.js";

/**
 * A text from the data in the launch's language where the data has it. The pages' own words
 * are English until the Welsh interface exists, so a page is `en-GB` and only a Welsh text is
 * marked `lang="cy"` (WCAG 3.1.2): a screen reader reads each in its own language.
 */
export function Localised(props: {
  text: { en: string; cy?: string | undefined };
  locale?: string | undefined;
}) {
  const { text, lang } = localisedText(props.text, props.locale);
  return lang === "cy" ? <span lang="cy">{text}</span> : text;
}
