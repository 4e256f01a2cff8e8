// zod/mini (not classic zod) because its schemas are cheap to build at module evaluation and
// tree-shake well: the web Lambda's cold start pays for every schema its bundle constructs.
// zod/mini registers no locale, so issues would read "Invalid input"; English is set here.

import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";
