import { createHash } from "node:crypto";

/**
 * The tool's pages carry a Content-Security-Policy that lets no script or style run but the
 * tool's own inline ones, listed by hash (CSP Level 3 hash sources): a value that slipped
 * through escaping could not run a script. Every inline script and style is therefore a fixed
 * text declared here once, at module load; what varies per page (a Platform Storage target, a
 * key) travels in a JSON data block (`<script type="application/json">`), which never runs.
 */
const scriptHashes = new Set<string>();
const styleHashes = new Set<string>();

const hashOf = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/** A fixed inline script's text, allowed by the policy. */
export function inlineScript(text: string): string {
  scriptHashes.add(hashOf(text));
  return text;
}

/** A fixed inline style sheet's text, allowed by the policy. */
export function inlineStyle(text: string): string {
  styleHashes.add(hashOf(text));
  return text;
}

/**
 * The policy for HTML answers. Nothing loads from anywhere but the inline texts above and the
 * tool's own images; no <base>, no plugins. Not restricted here: `frame-ancestors` (any school's
 * LMS frames the tool; only the administration pages, never framed, set it to 'none') and
 * `form-action` (the tool's forms post back to the LMS: deep linking).
 */
export function contentSecurityPolicy(options: { frameAncestors?: "'none'" } = {}): string {
  return [
    "default-src 'none'",
    `script-src ${[...scriptHashes].join(" ") || "'none'"}`,
    `style-src ${[...styleHashes].join(" ") || "'none'"}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "object-src 'none'",
    ...(options.frameAncestors ? [`frame-ancestors ${options.frameAncestors}`] : []),
  ].join("; ");
}

/** JSON for a data block inside <script>: `<` escaped so no value can close the element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
