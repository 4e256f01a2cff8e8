/**
 * Just enough HTML to drive an LTI launch without a browser: find the `<form>`s of a page
 * (the auto-submitting login and id_token forms) and the fields a browser would submit.
 * Tolerates what real LMSs and tools emit: any attribute order, single, double or no quotes,
 * upper case, entities, comments and scripts containing markup. No external parser.
 */

export interface ParsedForm {
  /** Resolved against the page URL; the page URL itself when the form has no action. */
  readonly action: string;
  /** Lower case; `get` when absent or unknown (HTML's default). */
  readonly method: "get" | "post";
  readonly id: string | undefined;
  readonly name: string | undefined;
  /** Successful controls in document order; names may repeat. */
  readonly fields: readonly (readonly [name: string, value: string])[];
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  sol: "/",
  colon: ":",
  equals: "=",
  num: "#",
  percnt: "%",
  plus: "+",
  quest: "?",
  period: ".",
  comma: ",",
  lowbar: "_",
  hyphen: "-",
  dash: "-",
  copy: "\u00a9",
  AMP: "&",
  LT: "<",
  GT: ">",
  QUOT: '"',
};

/** Named references a browser still decodes without the closing `;`. */
const LEGACY = new Set(["amp", "lt", "gt", "quot", "nbsp", "copy", "AMP", "LT", "GT", "QUOT"]);

/**
 * Decodes numeric (`&#39;`, `&#x27;`) and the common named character references. In an
 * attribute value a legacy reference without `;` followed by `=` stays as text
 * (HTML §13.2.5.73), so `?a=1&copy=2` in a URL survives.
 */
export function decodeEntities(text: string, inAttribute = false): string {
  const pattern = /&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);?/g;
  return text.replace(pattern, (whole: string, ref: string, offset: number) => {
    if (ref.startsWith("#")) {
      const code =
        ref[1] === "x" || ref[1] === "X"
          ? Number.parseInt(ref.slice(2), 16)
          : Number.parseInt(ref.slice(1), 10);
      // HTML maps NUL, surrogates and out-of-range code points to U+FFFD.
      if (!Number.isFinite(code) || code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
        return "\ufffd";
      }
      return String.fromCodePoint(code);
    }
    // Named references without `;` are only honoured for the legacy few; keep others as text.
    const decoded = NAMED_ENTITIES[ref];
    if (decoded === undefined) return whole;
    if (!whole.endsWith(";")) {
      if (!LEGACY.has(ref)) return whole;
      if (inAttribute && text[offset + whole.length] === "=") return whole;
    }
    return decoded;
  });
}

/** Attributes of one start tag's inside (`name="x" value='y' hidden`), names lower-cased. */
export function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  const pattern = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (const match of source.matchAll(pattern)) {
    const name = (match[1] ?? "").toLowerCase();
    if (!name || attributes.has(name)) continue; // the first occurrence wins, as in HTML
    const raw = match[2] ?? match[3] ?? match[4] ?? "";
    attributes.set(name, decodeEntities(raw, true));
  }
  return attributes;
}

/** Removes what cannot hold live form markup: comments, scripts, styles, templates. */
function stripInert(html: string): string {
  return html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, "")
    .replace(/<(script|style|template)\b[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi, "");
}

const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;

const NOT_SUBMITTED = new Set(["submit", "button", "image", "reset", "file"]);

export function parseForms(html: string, pageUrl: string): ParsedForm[] {
  const forms: ParsedForm[] = [];
  const source = stripInert(html);
  let current: { attributes: Map<string, string>; fields: [string, string][] } | undefined;
  let textarea: { name: string; start: number } | undefined;

  const close = () => {
    if (!current) return;
    const { attributes, fields } = current;
    const method = attributes.get("method")?.toLowerCase() === "post" ? "post" : "get";
    const action = attributes.get("action")?.trim();
    forms.push({
      action: new URL(action || pageUrl, pageUrl).toString(),
      method,
      id: attributes.get("id"),
      name: attributes.get("name"),
      fields,
    });
    current = undefined;
  };

  for (const match of source.matchAll(TAG)) {
    const closing = match[1] === "/";
    const tag = (match[2] ?? "").toLowerCase();
    const attributes = parseAttributes((match[3] ?? "").replace(/\/\s*$/, ""));
    if (tag === "form") {
      if (closing) close();
      else if (!current) current = { attributes, fields: [] }; // nested forms are ignored, as in HTML
      continue;
    }
    if (!current) continue;
    // A textarea's content is text, not markup: skip to its end tag.
    if (textarea && !(closing && tag === "textarea")) continue;
    if (tag === "textarea") {
      if (!closing && attributes.has("name") && !attributes.has("disabled")) {
        textarea = { name: attributes.get("name") ?? "", start: (match.index ?? 0) + match[0].length };
      } else if (closing && textarea) {
        const text = source.slice(textarea.start, match.index ?? textarea.start);
        current.fields.push([textarea.name, decodeEntities(text.replace(/^\r?\n/, ""))]);
        textarea = undefined;
      }
      continue;
    }
    if (tag !== "input" || closing) continue;
    const name = attributes.get("name");
    const type = (attributes.get("type") ?? "text").toLowerCase();
    if (!name || attributes.has("disabled") || NOT_SUBMITTED.has(type)) continue;
    if ((type === "checkbox" || type === "radio") && !attributes.has("checked")) continue;
    current.fields.push([
      name,
      attributes.get("value") ?? (type === "checkbox" || type === "radio" ? "on" : ""),
    ]);
  }
  close(); // an unclosed form ends with the document
  return forms;
}

/** The first form on the page, which is what an auto-submitting page submits. */
export function firstForm(html: string, pageUrl: string): ParsedForm | undefined {
  return parseForms(html, pageUrl)[0];
}

/** Fields as a form body (`application/x-www-form-urlencoded`). */
export function formBody(fields: ParsedForm["fields"]): URLSearchParams {
  const body = new URLSearchParams();
  for (const [name, value] of fields) body.append(name, value);
  return body;
}
