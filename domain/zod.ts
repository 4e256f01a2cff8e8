// zod/mini (not classic zod) because its schemas are cheap to build at module evaluation and
// tree-shake well: the web Lambda's cold start pays for every schema its bundle constructs.
// zod/mini registers no locale, so issues would read "Invalid input"; English is set here.

import { config, refine } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());
// The issues every form and flag meets, in plain words (the path says which field); the rest
// in the locale's wording.
config({
  customError: (issue) => {
    if (issue.code === "invalid_type" && issue.input === undefined) return "is missing";
    if (issue.code === "invalid_format" && issue.format === "url") return "must be a full URL";
    if (issue.code === "too_small" && issue.origin === "string" && Number(issue.minimum) === 1) {
      return "must not be empty";
    }
    return undefined;
  },
});

export * from "zod/mini";

/**
 * At most `bytes` bytes of UTF-8: how DynamoDB measures a key (2,048 bytes for a partition key,
 * 1,024 for a sort key). Identifiers that end up in keys carry it beside their length in
 * characters, which a few multi-byte characters would otherwise take past the limit.
 */
export const maxUtf8Bytes = (bytes: number) =>
  refine<string>((s) => Buffer.byteLength(s, "utf8") <= bytes, `must be at most ${bytes} bytes long`);

/**
 * A schema built on its first use rather than at import (domain/lazy.ts): for schemas no launch
 * uses. Call the returned function for the schema; it is built once.
 */
export { lazy as lazySchema } from "./lazy.js";
