/**
 * What the LTI Advantage integration tests share: the tool on DynamoDB Local + s3rver, the
 * development platform on loopback (a different site: `localhost` vs `127.0.0.1`), the tool
 * registered with it by hand, and small readers for the pages the tool answers with.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoGradeJobStore } from "../../../adapters/dynamo/grade-jobs.js";
import { decodeEntities } from "../../../dev/platform/html-form.js";
import { type BrowserPage, CookieJar } from "../../../dev/platform/index.js";
import type { RunningToolServer } from "../../../dev/tool-server.js";
import type { CourseRef } from "../../../domain/tenancy.js";
import type { GradeJob } from "../../../lti-tool/advantage/grades.js";
import type { LocalAws } from "../../support/stack.js";

export { type LocalAws, type Stack, startPlatform, startStack, toolEndpoints } from "../../support/stack.js";

/** The tool's published key ids, fetched over HTTP as a platform fetches them. */
export async function toolKids(tool: RunningToolServer): Promise<string[]> {
  const res = await fetch(`${tool.url}/.well-known/jwks.json`);
  const jwks = (await res.json()) as { keys: { kid?: string }[] };
  return jwks.keys.map((k) => k.kid ?? "");
}

/** The text of a page with its markup removed and entities decoded, whitespace collapsed. */
export function pageText(html: string): string {
  const withoutScripts = html.replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, " ");
  return decodeEntities(withoutScripts.replace(/<[^>]+>/g, " "))
    .replace(/\s+/g, " ")
    .trim();
}

/** The first `<h1>` of a page, as text. */
export function heading(html: string): string | undefined {
  const m = html.match(/<h1\b[^>]*>([\s\S]*?)<\/h1>/i);
  return m?.[1] === undefined ? undefined : pageText(m[1]);
}

/** The page after a launch: the tool answers the id_token POST with 303 to `/app?s=…`. */
export async function followToApp(
  tool: RunningToolServer,
  location: string | null,
): Promise<{ status: number; html: string; url: string }> {
  if (!location?.startsWith("/app?s=")) {
    throw new Error(`The launch did not redirect to the tool's first page (Location: ${location}).`);
  }
  const url = new URL(location, tool.url).toString();
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, html: await res.text(), url };
}

/**
 * The page with the given checkboxes or radio buttons ticked (by `value`), as a person ticks
 * them before submitting: `submitForm` then posts every ticked one.
 */
export function tick<P extends BrowserPage>(page: P, name: string, values: readonly string[]): P {
  let html = page.html;
  for (const value of values) {
    const pattern = new RegExp(`<input\\b(?=[^>]*\\bname="${name}")(?=[^>]*\\bvalue="${value}")[^>]*>`);
    if (!pattern.test(html)) throw new Error(`No ${name}=${value} input on ${page.url}.`);
    html = html.replace(pattern, (input) => input.replace(/\/?>$/, " checked>"));
  }
  return { ...page, html };
}

/** A page opened in its own browser window (no LMS frame around it), for `submitForm`. */
export async function openInWindow(url: string, platformUrl: string): Promise<BrowserPage> {
  const res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(15_000) });
  return {
    status: res.status,
    html: await res.text(),
    url,
    headers: res.headers,
    jar: new CookieJar({ thirdPartyCookies: "allow" }),
    presentation: "window",
    platformUrl,
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A grade job for a candidate's activity, due now, as a completion would write it. */
export function gradeJob(
  course: CourseRef,
  fields: Pick<GradeJob, "userId" | "activityId" | "scoreMaximum" | "label" | "timestamp"> &
    Partial<Pick<GradeJob, "scoreGiven" | "activityProgress" | "gradingProgress" | "resourceLinkId">>,
): GradeJob {
  return {
    course,
    jobId: randomUUID(),
    activityProgress: "Completed",
    gradingProgress: "FullyGraded",
    attempts: 0,
    nextAttemptAt: new Date(Date.now() - 1000).toISOString(),
    status: "pending",
    ...fields,
  };
}

/** Enqueues grade jobs in one transaction, as a completion does beside its own writes. */
export async function enqueueGrades(aws: LocalAws, ...jobs: GradeJob[]): Promise<void> {
  const store = new DynamoGradeJobStore(aws.doc, aws.tableName);
  await aws.doc.send(new TransactWriteCommand({ TransactItems: jobs.map((j) => store.enqueueWrite(j)) }));
}
