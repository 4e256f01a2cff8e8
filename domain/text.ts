/**
 * Text an LMS sent, fit for a statement or a store: at most `max` UTF-16 units (what a schema's
 * maxLength counts), never ending in half a surrogate pair, and with any lone surrogate (a JSON
 * "\ud83d" escape in a claim) replaced by U+FFFD. Such text is valid JSON syntax but not Unicode
 * (RFC 8259 §8.2): an LRS's store may refuse it, or mend it so that its copy no longer compares
 * equal to ours.
 */
export function wellFormedClip(text: string, max: number): string {
  let cut = text.length <= max ? text : text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  if (cut.length < text.length && last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut.replace(LONE_SURROGATE, "\uFFFD");
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
