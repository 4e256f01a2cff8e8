/**
 * A model of IAM's evaluation of one role's identity policies, enough for the statements this
 * stack synthesizes: an explicit Deny that matches wins, otherwise an Allow that matches allows,
 * otherwise the request is denied. Actions and resources match as IAM globs (`*`, `?`); the
 * condition operators the stack uses are modelled (String(Not)Equals, String(Not)Like, with or
 * without ForAnyValue / ForAllValues), any other throws rather than guess.
 *
 * Table requests: `dynamodb:LeadingKeys` holds the partition key of every item the request
 * names (one for GetItem, PutItem, UpdateItem…; one per item for BatchWriteItem), or for a
 * Query the queried partition key value: the table's `pk`, or on gsi1 the `gsi1pk`.
 *
 * Used by test/infra/stack.test.ts (chosen requests) and test/integration/iam (the requests the
 * code really sends, recorded at DynamoDB Local).
 */
import type { CfnResource } from "aws-cdk-lib";
import { Stack } from "aws-cdk-lib";
import type { Template } from "aws-cdk-lib/assertions";
import type { HltaFunction } from "../../infra/constructs/hlta-function.js";
import type { HltaStack } from "../../infra/stacks/hlta-stack.js";

export interface Statement {
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export type Decision = "ALLOWED" | "DENIED";

/** The logical id of a construct (its default child) or of a CloudFormation resource. */
export const logicalId = (construct: { node: { defaultChild?: unknown } } | CfnResource): string => {
  const cfn = ("logicalId" in construct ? construct : construct.node.defaultChild) as CfnResource;
  return Stack.of(cfn).getLogicalId(cfn);
};

export const roleIdOf = (fn: HltaFunction): string =>
  logicalId(fn.fn.role as unknown as { node: { defaultChild?: unknown } });

/** Every statement of the inline policies attached to a function's role. */
export function statementsOf(template: Template, fn: HltaFunction): Statement[] {
  const roleId = roleIdOf(fn);
  return Object.values(template.findResources("AWS::IAM::Policy"))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** CloudFormation intrinsics turned into comparable strings (enough for these policies). */
function resolve(v: unknown): string {
  if (typeof v === "string") return v;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("Fn::GetAtt" in o) {
      const [id, attr] = o["Fn::GetAtt"] as [string, string];
      return attr === "Arn" ? `arn:${id}` : `arn:${id}:${attr}`;
    }
    if ("Ref" in o) return `ref:${String(o.Ref)}`;
    if ("Fn::Join" in o) {
      const [sep, parts] = o["Fn::Join"] as [string, unknown[]];
      return parts.map(resolve).join(sep);
    }
  }
  throw new Error(`cannot resolve ${JSON.stringify(v)}`);
}

const glob = (pattern: string, flags = "") =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    flags,
  );

function conditionHolds(op: string, key: string, policy: unknown, ctx: Record<string, string[]>): boolean {
  const values = (Array.isArray(policy) ? policy : [policy]).map(String);
  const [qualifier, base] = op.includes(":") ? (op.split(":") as [string, string]) : [undefined, op];
  const one = (v: string): boolean => {
    switch (base) {
      case "StringEquals":
        return values.includes(v);
      case "StringNotEquals":
        return !values.includes(v);
      case "StringLike":
        return values.some((p) => glob(p).test(v));
      case "StringNotLike":
        return !values.some((p) => glob(p).test(v));
      default:
        throw new Error(`operator ${op} not modelled`);
    }
  };
  const request = ctx[key];
  // A ForAnyValue condition on a key the request does not carry is false.
  if (qualifier === "ForAnyValue") return (request ?? []).some(one);
  if (qualifier === "ForAllValues") return (request ?? []).every(one);
  if (qualifier !== undefined) throw new Error(`qualifier ${qualifier} not modelled`);
  if (!request || request.length === 0) return base.startsWith("StringNot");
  return one(request[0] as string);
}

function matches(s: Statement, action: string, resource: string, ctx: Record<string, string[]>): boolean {
  for (const unmodelled of ["NotAction", "NotResource", "NotPrincipal"]) {
    if (unmodelled in s) throw new Error(`${unmodelled} not modelled`);
  }
  const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
  if (!actions.some((a) => glob(a, "i").test(action))) return false;
  const resources = (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map(resolve);
  if (!resources.some((r) => glob(r).test(resource))) return false;
  return Object.entries(s.Condition ?? {}).every(([op, byKey]) =>
    Object.entries(byKey).every(([key, policy]) => conditionHolds(op, key, policy, ctx)),
  );
}

export function decide(
  statements: Statement[],
  action: string,
  resource: string,
  ctx: Record<string, string[]> = {},
): Decision {
  if (statements.some((s) => s.Effect === "Deny" && matches(s, action, resource, ctx))) return "DENIED";
  return statements.some((s) => s.Effect === "Allow" && matches(s, action, resource, ctx))
    ? "ALLOWED"
    : "DENIED";
}

/** One table request as IAM authorises it: a transaction is one request per item. */
export interface TableRequest {
  /** The DynamoDB action, without its `dynamodb:` prefix (GetItem, Query, PutItem…). */
  action: string;
  /** A Query on gsi1 (resource `…/index/gsi1`) rather than on the table. */
  index: boolean;
  /** `dynamodb:LeadingKeys`: the partition key of each item, or the queried key value. */
  leadingKeys: string[];
}

/** The decision the synthesized policies of `fn` make on one table request. */
export function tableDecision(
  template: Template,
  stack: HltaStack,
  fn: HltaFunction,
  request: TableRequest,
): Decision {
  if (request.leadingKeys.length === 0) {
    // Every table request these functions send names a key; without one a ForAnyValue fence
    // would not apply, and the model would say ALLOWED for the wrong reason.
    throw new Error(`a ${request.action} request without leading keys`);
  }
  const tableArn = `arn:${logicalId(stack.table.table)}`;
  return decide(
    statementsOf(template, fn),
    `dynamodb:${request.action}`,
    request.index ? `${tableArn}/index/gsi1` : tableArn,
    { "dynamodb:LeadingKeys": request.leadingKeys },
  );
}
