/**
 * The tool's JSX runtime (tsconfig `jsxImportSource` "#jsx", package.json `imports`): JSX
 * renders straight to HTML, as each element is made, into an object marked escaped as hono's
 * escaped strings are (typed as hono's `HtmlEscapedString`), so `c.html(<Page />)` and `raw()`
 * from hono/html work as with hono/jsx.
 *
 * Why not hono/jsx: its renderer runs every render inside an AsyncLocalStorage (for `useContext`
 * after `await` in async components, which this tool has none of). On Node 20 and 22 that turns
 * on a promise hook for the whole process, so every promise afterwards (the AWS SDK's, Hono's)
 * pays for it: measured on the launch benchmark (2026-11-24), 1 ms of the tool's 8.7 ms of CPU
 * per launch. This runtime has no context, no async components and no client-side handlers;
 * anything it does not support throws at render (a developer's mistake, found by the page tests),
 * never renders wrongly. Text and attribute values are escaped with hono's own `escapeToBuffer`
 * (`& < > " '`), so the pages' bytes are the same as hono/jsx made them.
 */
import type { JSX as HonoJSX } from "hono/jsx";
import { escapeToBuffer, type HtmlEscapedString } from "hono/utils/html";

/** What JSX makes: HTML text, marked as already escaped. */
export type Html = HtmlEscapedString;

/** What a component may take as children. */
export type Child = Html | string | number | bigint | boolean | null | undefined | Child[];

type Props = Record<string, unknown> & { children?: unknown };
type Component = (props: Props) => unknown;

// The same lists as hono/jsx (jsx/base.js), so the markup is the same.
const VOID_ELEMENTS = new Set([
  "area",
  "base",
  "br",
  "col",
  "embed",
  "hr",
  "img",
  "input",
  "keygen",
  "link",
  "meta",
  "param",
  "source",
  "track",
  "wbr",
]);
const BOOLEAN_ATTRIBUTES = new Set([
  "allowfullscreen",
  "async",
  "autofocus",
  "autoplay",
  "checked",
  "controls",
  "default",
  "defer",
  "disabled",
  "download",
  "formnovalidate",
  "hidden",
  "inert",
  "ismap",
  "itemscope",
  "loop",
  "multiple",
  "muted",
  "nomodule",
  "novalidate",
  "open",
  "playsinline",
  "readonly",
  "required",
  "reversed",
  "selected",
  "shadowrootclonable",
  "shadowrootdelegatesfocus",
  "shadowrootserializable",
]);
// React-style names hono/jsx accepts, written as HTML names.
const RENAMED = new Map([
  ["className", "class"],
  ["htmlFor", "for"],
  ["crossOrigin", "crossorigin"],
  ["httpEquiv", "http-equiv"],
  ["itemProp", "itemprop"],
  ["fetchPriority", "fetchpriority"],
  ["noModule", "nomodule"],
  ["formAction", "formaction"],
]);
const TAG_NAME = /^[a-zA-Z][a-zA-Z0-9-]*$/;
const ATTRIBUTE_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:.-]*$/;

/**
 * HTML this runtime made. Marked escaped like raw()'s String objects, and told apart from them,
 * as hono/jsx does: as an attribute value it is text (escaped), not markup. Not a String object:
 * hono's c.html() turns any other object into its text with toString(), so the answer's body is
 * a plain string, which the Node server sends from its fast path (a String object body made it
 * build a whole Response and read it back as a stream).
 */
class Rendered {
  readonly isEscaped = true;
  constructor(private readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

function rendered(html: string): Html {
  return new Rendered(html) as unknown as Html;
}

/** HTML: what this runtime made, or raw() text from hono/html. */
function isHtml(value: unknown): value is Html {
  if (value instanceof Rendered) return true;
  return value instanceof String && (value as { isEscaped?: unknown }).isEscaped === true;
}

/** Appends a child, escaped unless it is already HTML. */
function appendChild(buffer: [string], child: unknown): void {
  if (child === null || child === undefined || typeof child === "boolean") return;
  if (typeof child === "string") {
    escapeToBuffer(child, buffer);
  } else if (typeof child === "number" || typeof child === "bigint") {
    buffer[0] += String(child);
  } else if (isHtml(child)) {
    buffer[0] += child.toString();
  } else if (Array.isArray(child)) {
    for (const c of child) appendChild(buffer, c);
  } else if (child instanceof Promise) {
    throw new TypeError("JSX: async components and promises are not supported; await the data first.");
  } else {
    throw new TypeError(`JSX: a child of type ${typeof child} cannot be rendered; pass text or elements.`);
  }
}

function appendAttribute(buffer: [string], tag: string, key: string, value: unknown): void {
  if (key === "children" || key === "key" || key === "ref" || value === null || value === undefined) return;
  const name = RENAMED.get(key) ?? key;
  if (!ATTRIBUTE_NAME.test(name))
    throw new TypeError(`JSX: <${tag}> has an invalid attribute name "${key}".`);
  if (typeof value === "boolean" && BOOLEAN_ATTRIBUTES.has(name)) {
    if (value) buffer[0] += ` ${name}=""`;
    return;
  }
  if (typeof value === "function") {
    throw new TypeError(`JSX: <${tag} ${name}> is a function; server-rendered pages cannot carry handlers.`);
  }
  if (name === "dangerouslySetInnerHTML" || (typeof value === "object" && !isHtml(value))) {
    throw new TypeError(`JSX: <${tag} ${name}> takes text, a number or a boolean, not an object.`);
  }
  buffer[0] += ` ${name}="`;
  if (typeof value === "string") escapeToBuffer(value, buffer);
  // raw() text is the caller's, already escaped; an element's markup is escaped like any text.
  else if (typeof value === "number" || (isHtml(value) && !((value as object) instanceof Rendered)))
    buffer[0] += value.toString();
  else escapeToBuffer(String(value), buffer);
  buffer[0] += '"';
}

function element(tag: string, props: Props): Html {
  if (!TAG_NAME.test(tag)) throw new TypeError(`JSX: "${tag}" is not a valid tag name.`);
  const buffer: [string] = [`<${tag}`];
  for (const key in props) appendAttribute(buffer, tag, key, props[key]);
  const children = props.children;
  const empty = children === undefined || (Array.isArray(children) && children.length === 0);
  if (VOID_ELEMENTS.has(tag) && empty) return rendered(`${buffer[0]}/>`);
  buffer[0] += ">";
  appendChild(buffer, children);
  buffer[0] += `</${tag}>`;
  return rendered(buffer[0]);
}

/** Children side by side, as HTML: a component's result, or a fragment's children. */
function sideBySide(children: unknown): Html {
  const buffer: [string] = [""];
  appendChild(buffer, children);
  return rendered(buffer[0]);
}

/** Renders one element or component (the automatic runtime's `jsx` and `jsxs`). */
export function jsx(tag: string | Component, props: Props | null, _key?: unknown): Html {
  const p = props ?? {};
  return typeof tag === "function" ? sideBySide(tag(p)) : element(tag, p);
}

export { jsx as jsxs };

/** `<>…</>`: its children, side by side. */
export function Fragment(props: { children?: unknown }): Html {
  return sideBySide(props.children);
}

// TypeScript's view of JSX in this project: hono/jsx's element and attribute types, with one
// difference: an element is HTML, never a promise (this runtime renders synchronously).
export declare namespace JSX {
  type Element = Html;
  /** A tag name, or a component returning HTML, text (escaped when rendered) or nothing. */
  type ElementType = string | ((props: never) => Html | string | number | null | undefined | boolean);
  interface ElementChildrenAttribute {
    children: unknown;
  }
  interface IntrinsicElements extends HonoJSX.IntrinsicElements {}
  interface IntrinsicAttributes {
    key?: string | number | bigint | null | undefined;
  }
}
