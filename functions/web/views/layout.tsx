import { raw } from "hono/html";
import type { Child } from "../jsx/jsx-runtime.js";
import { inlineStyle } from "./inline.js";

// Raw, not escaped: a <style> element's text is not entity-decoded, so an escaped `"` would
// reach the browser as `&quot;` and void the declaration it is in.
const CSS = inlineStyle(`
:root{--ink:#1b1b1b;--muted:#505a5f;--accent:#1d70b8;--ok:#00703c;--warn:#b58800;--bad:#d4351c;--line:#b1b4b6;--bg:#fff;--soft:#f3f2f1}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:60rem;margin:0 auto;padding:1rem 1.25rem 3rem}
h1{font-size:1.75rem;margin:.5rem 0 1rem}h2{font-size:1.25rem;margin:1.75rem 0 .5rem}
a{color:var(--accent)}a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #0b0c0c;outline-offset:0;box-shadow:0 0 0 6px #ffdd00}
input:not([type]),input[type=text],input[type=password],input[type=url]{width:100%;max-width:30rem;font:inherit;padding:.25rem}
code{overflow-wrap:anywhere}
.lede{color:var(--muted);max-width:45rem}
.standards{list-style:none;padding:0;margin:0;border-top:1px solid var(--line)}
.standards li{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:baseline;padding:.5rem 0;border-bottom:1px solid var(--line)}
.standards .num{font-weight:700;min-width:2.5rem}.standards .label{flex:1 1 12rem}
.status{font-size:.875rem;padding:.1rem .5rem;border-radius:2px;background:var(--soft);white-space:nowrap}
.progress{margin:1rem 0;max-width:30rem}.progress progress{width:100%;height:1rem}
.panel{border-left:5px solid var(--accent);background:var(--soft);padding:.75rem 1rem;margin:1rem 0}
.error{border-left-color:var(--bad)}
.ref,.session-note{color:var(--muted);font-size:.875rem}
.button{display:inline-block;background:var(--ok);color:#fff;border:0;padding:.5rem 1rem;font-size:1rem;text-decoration:none;cursor:pointer;border-radius:0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.5rem;border-bottom:1px solid var(--line)}
.wrap{white-space:pre-wrap;max-width:30rem}
`);

/**
 * A page. Its own words are English (the Welsh interface is a later issue), so it is `en-GB`
 * whatever the launch's locale; Welsh texts from the data carry their own `lang` (`Localised`).
 * The doctype keeps browsers in standards mode (without it they lay the page out in quirks mode).
 */
export function Layout(props: { title: string; children?: Child }) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en-GB">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{props.title}</title>
          <style>{raw(CSS)}</style>
        </head>
        <body>
          <main id="main">{props.children}</main>
        </body>
      </html>
    </>
  );
}

/** A form that is one button: POSTs its hidden `fields` (those not undefined) to `action`. */
export function ButtonForm(props: {
  action: string;
  fields: Record<string, string | undefined>;
  label: string;
  /** The button's name for assistive technology when `label` alone is ambiguous (one per row). */
  accessibleLabel?: string;
}) {
  return (
    <form method="post" action={props.action}>
      {Object.entries(props.fields).map(([name, value]) =>
        value === undefined ? null : <input type="hidden" name={name} value={value} />,
      )}
      <button
        class="button"
        type="submit"
        {...(props.accessibleLabel ? { "aria-label": props.accessibleLabel } : {})}
      >
        {props.label}
      </button>
    </form>
  );
}
