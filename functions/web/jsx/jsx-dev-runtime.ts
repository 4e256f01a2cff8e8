/** The development form of the runtime (vitest compiles JSX with `jsxDEV`): the same renderer. */
import { Fragment, type Html, type JSX, jsx } from "./jsx-runtime.js";

export function jsxDEV(
  tag: Parameters<typeof jsx>[0],
  props: Parameters<typeof jsx>[1],
  key?: unknown,
): Html {
  return jsx(tag, props, key);
}

export { Fragment, type JSX };
