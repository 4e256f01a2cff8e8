import validationModule from "@learninglocker/xapi-validation";

/**
 * Learning Locker's own statement validator (xapi.md, "Libraries"), as a typed function.
 * The package is CommonJS with `exports.default`; depending on the loader the default import
 * is the function itself or the module object, so both are accepted here.
 */
export interface ValidationWarning {
  /** e.g. IfiCountWarning, TypeWarning, RestrictedKeysWarning. */
  name: string;
  /** Where, e.g. ["statement", "actor"]. */
  path: (string | number)[];
  message: string;
}

type Validate = (data: unknown) => unknown[];

function resolveValidate(mod: unknown): Validate {
  if (typeof mod === "function") return mod as Validate;
  const inner = (mod as { default?: unknown } | undefined)?.default;
  if (typeof inner === "function") return inner as Validate;
  throw new Error("@learninglocker/xapi-validation exports no validate function");
}

const validate = resolveValidate(validationModule);

function toWarning(raw: unknown): ValidationWarning {
  const w = (raw ?? {}) as { name?: unknown; path?: unknown; message?: unknown };
  return {
    name: typeof w.name === "string" ? w.name : "Warning",
    path: Array.isArray(w.path)
      ? w.path.filter((p): p is string | number => ["string", "number"].includes(typeof p))
      : [],
    message: typeof w.message === "string" ? w.message : "Validation Error",
  };
}

/** Every problem the validator finds in one statement; empty when it is valid xAPI 1.0.3. */
export function validateStatement(statement: unknown): ValidationWarning[] {
  return validate(statement).map(toWarning);
}

export function describeWarnings(warnings: readonly ValidationWarning[]): string[] {
  return warnings.map((w) => `${w.name} at ${w.path.join(".")}`);
}
