import type { StatementTemplate, TemplateRule } from "./profile.js";

/**
 * A small Statement Template checker (xAPI Profiles §8 and §8.1): determining properties (verb,
 * object activity type, context activity types) and rules with `presence`, `any`, `all` and
 * `none`. JSONPath is limited to what the profile uses: `$`, `.name`, `['key']`, `[n]`, `[*]`
 * (Profiles §8.1 forbids filters and scripts anyway).
 */

export interface TemplateViolation {
  /** The determining property or the rule's location. */
  where: string;
  message: string;
}

type Step = { kind: "key"; key: string } | { kind: "index"; index: number } | { kind: "wildcard" };

export function parseJsonPath(path: string): Step[] {
  if (!path.startsWith("$")) throw new Error(`JSONPath must start with $: ${path}`);
  const steps: Step[] = [];
  let i = 1;
  while (i < path.length) {
    const ch = path[i];
    if (ch === ".") {
      const match = /^\.([A-Za-z_][A-Za-z0-9_-]*|\*)/.exec(path.slice(i));
      if (!match?.[1]) throw new Error(`bad JSONPath near ${path.slice(i)}`);
      steps.push(match[1] === "*" ? { kind: "wildcard" } : { kind: "key", key: match[1] });
      i += match[0].length;
    } else if (ch === "[") {
      const rest = path.slice(i);
      const quoted = /^\['([^']*)'\]/.exec(rest);
      const index = /^\[(\d+)\]/.exec(rest);
      if (quoted?.[1] !== undefined) {
        steps.push({ kind: "key", key: quoted[1] });
        i += quoted[0].length;
      } else if (index?.[1] !== undefined) {
        steps.push({ kind: "index", index: Number(index[1]) });
        i += index[0].length;
      } else if (rest.startsWith("[*]")) {
        steps.push({ kind: "wildcard" });
        i += 3;
      } else {
        throw new Error(`unsupported JSONPath near ${rest}`);
      }
    } else {
      throw new Error(`bad JSONPath near ${path.slice(i)}`);
    }
  }
  return steps;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Evaluate a JSONPath; missing values are simply absent from the result. */
export function evaluateJsonPath(document: unknown, path: string): unknown[] {
  let current: unknown[] = [document];
  for (const step of parseJsonPath(path)) {
    const next: unknown[] = [];
    for (const value of current) {
      if (step.kind === "key") {
        if (isRecord(value) && Object.hasOwn(value, step.key) && value[step.key] !== undefined)
          next.push(value[step.key]);
      } else if (step.kind === "index") {
        if (Array.isArray(value) && step.index < value.length) next.push(value[step.index]);
      } else if (Array.isArray(value)) {
        next.push(...value);
      } else if (isRecord(value)) {
        next.push(...Object.values(value));
      }
    }
    current = next;
  }
  return current;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function checkRule(statement: unknown, rule: TemplateRule): string[] {
  const located = evaluateJsonPath(statement, rule.location);
  const values = rule.selector ? located.flatMap((v) => evaluateJsonPath(v, rule.selector ?? "$")) : located;
  const problems: string[] = [];
  if (rule.presence === "included" && values.length === 0) problems.push("must be included but is missing");
  if (rule.presence === "excluded" && values.length > 0) problems.push("must be excluded but is present");
  // "recommended": any/all/none apply only when something is there (Profiles §8.1).
  const applyValueRules = rule.presence !== "recommended" || values.length > 0;
  if (applyValueRules && rule.any && !values.some((v) => rule.any?.some((a) => sameValue(a, v)))) {
    problems.push(`must contain one of ${JSON.stringify(rule.any)}, has ${JSON.stringify(values)}`);
  }
  if (applyValueRules && rule.all) {
    if (values.length === 0) problems.push(`must only hold ${JSON.stringify(rule.all)}, has nothing`);
    for (const v of values) {
      if (!rule.all.some((a) => sameValue(a, v)))
        problems.push(`${JSON.stringify(v)} is not one of ${JSON.stringify(rule.all)}`);
    }
  }
  if (applyValueRules && rule.none) {
    for (const v of values) {
      if (rule.none.some((n) => sameValue(n, v))) problems.push(`${JSON.stringify(v)} is not allowed here`);
    }
  }
  return problems;
}

function contextTypes(statement: unknown, kind: "grouping" | "parent" | "other" | "category"): unknown[] {
  return evaluateJsonPath(statement, `$.context.contextActivities.${kind}[*].definition.type`);
}

/** Every violation of the template by the statement; an empty list means it conforms. */
export function checkAgainstTemplate(statement: unknown, template: StatementTemplate): TemplateViolation[] {
  const violations: TemplateViolation[] = [];
  if (template.verb !== undefined) {
    const [verb] = evaluateJsonPath(statement, "$.verb.id");
    if (verb !== template.verb) {
      violations.push({
        where: "verb",
        message: `verb is ${String(verb)}, the template wants ${template.verb}`,
      });
    }
  }
  if (template.objectActivityType !== undefined) {
    const [type] = evaluateJsonPath(statement, "$.object.definition.type");
    if (type !== template.objectActivityType) {
      violations.push({
        where: "objectActivityType",
        message: `object type is ${String(type)}, the template wants ${template.objectActivityType}`,
      });
    }
  }
  const determining = [
    ["contextGroupingActivityType", "grouping"],
    ["contextParentActivityType", "parent"],
    ["contextOtherActivityType", "other"],
    ["contextCategoryActivityType", "category"],
  ] as const;
  for (const [property, kind] of determining) {
    const wanted = template[property];
    if (!wanted) continue;
    const present = contextTypes(statement, kind);
    for (const type of wanted) {
      if (!present.includes(type)) {
        violations.push({ where: property, message: `no ${kind} context activity of type ${type}` });
      }
    }
  }
  for (const rule of template.rules ?? []) {
    for (const message of checkRule(statement, rule)) violations.push({ where: rule.location, message });
  }
  return violations;
}
