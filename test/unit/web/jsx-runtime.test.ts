import { raw } from "hono/html";
import { Fragment as HonoFragment, jsx as honoJsx } from "hono/jsx";
import { HtmlEscapedCallbackPhase, resolveCallback } from "hono/utils/html";
import { describe, expect, it } from "vitest";
import { Fragment, jsx } from "../../../functions/web/jsx/jsx-runtime.js";
import { lambdaBundle } from "../../support/lambda-bundle.js";

// Written without JSX syntax, so that one tree can be rendered by both runtimes.
type Tree = string | number | boolean | null | undefined | ReturnType<typeof raw> | Node | Tree[];
interface Node {
  tag: string | ((props: Record<string, unknown>) => unknown) | "fragment";
  props: Record<string, unknown>;
  children: Tree[];
}
const h = (tag: Node["tag"], props: Record<string, unknown> = {}, ...children: Tree[]): Node => ({
  tag,
  props,
  children,
});

function ours(tree: Tree): unknown {
  if (Array.isArray(tree)) return tree.map(ours);
  if (tree === null || typeof tree !== "object" || tree instanceof String) return tree;
  const kids = tree.children.map(ours);
  const children = kids.length === 0 ? undefined : kids.length === 1 ? kids[0] : kids;
  const props = children === undefined ? tree.props : { ...tree.props, children };
  if (tree.tag === "fragment") return Fragment(props);
  return jsx(tree.tag as Parameters<typeof jsx>[0], props);
}

function hono(tree: Tree): unknown {
  if (Array.isArray(tree)) return tree.map(hono);
  if (tree === null || typeof tree !== "object" || tree instanceof String) return tree;
  const kids = tree.children.map(hono);
  if (tree.tag === "fragment") return honoJsx(HonoFragment, {}, ...(kids as never[]));
  return honoJsx(tree.tag as never, { ...tree.props }, ...(kids as never[]));
}

const Greeting = (props: Record<string, unknown>) =>
  jsx("p", { class: "greet", children: ["Hello, ", props.name as string] });
const HonoGreeting = (props: Record<string, unknown>) =>
  honoJsx("p", { class: "greet" }, "Hello, ", props.name as string);

const CASES: Record<string, Tree> = {
  "text and attributes are escaped": h(
    "a",
    { href: "/x?a=1&b=\"2\"<'3'>", title: "Tom & Jerry's <b>" },
    "1 < 2 & \"3\" > '0'",
  ),
  "numbers, booleans and nothing": h("p", { "data-n": 42 }, 0, " ", 7, false, null, undefined, true),
  "boolean attributes": h("input", {
    type: "checkbox",
    checked: true,
    disabled: false,
    required: true,
    "aria-hidden": true,
  }),
  "void elements close themselves": h("div", {}, h("br"), h("img", { src: "/a.png", alt: "" }), h("hr")),
  "renamed attributes": h("label", { htmlFor: "f", className: "c" }, "Name"),
  "raw HTML is kept as it is": h("style", {}, raw('body{font:"x"}')),
  "nested lists and fragments": h(
    "ul",
    {},
    ["a", "b"].map((x) => h("li", { "data-x": x }, x)),
    h("fragment", {}, h("li", {}, "c"), h("li", {}, "d")),
  ),
  "a page": h(
    "html",
    { lang: "en-GB" },
    h("head", {}, h("meta", { charset: "utf-8" }), h("title", {}, "Your HLTA preparation")),
    h("body", {}, h("main", {}, h("h1", {}, "Standards"), h("p", { class: "lede" }, "33 standards"))),
  ),
};

describe("the tool's JSX runtime", () => {
  for (const [name, tree] of Object.entries(CASES)) {
    it(`makes the same HTML as hono/jsx: ${name}`, () => {
      const mine = String(ours(tree));
      expect(mine).toBe(String(hono(tree)));
      expect(mine.length).toBeGreaterThan(0);
    });
  }

  it("renders a component with its props, as hono/jsx does", () => {
    const mine = jsx(Greeting, { name: "<Sam>" });
    const theirs = honoJsx(HonoGreeting as never, { name: "<Sam>" });
    expect(String(mine)).toBe(String(theirs));
    expect(String(mine)).toBe('<p class="greet">Hello, &lt;Sam&gt;</p>');
  });

  it("escapes an element given as an attribute value, as hono/jsx does, and keeps raw() text as it is", () => {
    const mine = String(jsx("p", { "aria-label": jsx("span", { lang: "cy", children: "x" }) }));
    const theirs = String(honoJsx("p", { "aria-label": honoJsx("span", { lang: "cy" }, "x") }));
    expect(mine).toBe(theirs);
    expect(mine).toBe('<p aria-label="&lt;span lang=&quot;cy&quot;&gt;x&lt;/span&gt;"></p>');
    const rawValue = String(jsx("p", { title: raw("a &amp; b") }));
    expect(rawValue).toBe(String(honoJsx("p", { title: raw("a &amp; b") })));
    expect(rawValue).toBe('<p title="a &amp; b"></p>');
  });

  it("gives hono's c.html() a plain string to send, not a String object", async () => {
    // A String object body made the Node server build a whole Response and stream it back.
    const page = jsx("p", { children: "x & y" });
    const sent = await resolveCallback(page, HtmlEscapedCallbackPhase.Stringify, false, {});
    expect(typeof sent).toBe("string");
    expect(sent).toBe("<p>x &amp; y</p>");
  });

  it("marks its output as escaped, so it is not escaped again as a child", () => {
    const inner = jsx("b", { children: "x & y" });
    expect((inner as unknown as { isEscaped: boolean }).isEscaped).toBe(true);
    expect(String(jsx("p", { children: inner }))).toBe("<p><b>x &amp; y</b></p>");
  });

  it("refuses what it cannot render, rather than render it wrongly", () => {
    expect(() => jsx("p", { children: Promise.resolve("later") })).toThrow(TypeError);
    expect(() => jsx(() => Promise.resolve("later"), {})).toThrow(TypeError);
    expect(() => jsx("button", { onclick: () => undefined })).toThrow(TypeError);
    expect(() => jsx("div", { style: { color: "red" } })).toThrow(TypeError);
    expect(() => jsx("div", { dangerouslySetInnerHTML: { __html: "<b>" } })).toThrow(TypeError);
    expect(() => jsx("p", { children: { toString: () => "<b>" } })).toThrow(TypeError);
    expect(() => jsx("p><script", {})).toThrow(TypeError);
    expect(() => jsx("p", { 'x"onload': "1" })).toThrow(TypeError);
  });

  it("is the runtime of the web Lambda: hono/jsx's renderer is not in its bundle", async () => {
    // hono/jsx renders inside an AsyncLocalStorage, which turns on a promise hook for the whole
    // process (jsx-runtime.ts says why that matters). Built as the Lambda function is built.
    const result = await lambdaBundle({ entry: "functions/web/handler.ts" });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((p) => p.startsWith("functions/web/jsx/jsx-runtime.ts"))).toBe(true);
    expect(inputs.filter((p) => p.includes("node_modules/hono/dist/jsx/"))).toEqual([]);
  });
});
