/**
 * Deep Linking 2.0 over real HTTP: a tutor's deep-linking launch from the development platform
 * shows the tool's activity picker; the tool's signed LtiDeepLinkingResponse is auto-posted to
 * the platform's return URL; the placed links then launch straight to their activity, and a
 * graded one brings its line item (and its scores go there).
 */
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLAIM,
  type DeepLinkingResponseRecord,
  LTI_VERSION,
  launch,
  MESSAGE_TYPE,
  parseForms,
  type RunningDevPlatform,
  submitForm,
} from "../../../dev/platform/index.js";
import { ACTIVITIES, type Activity, findActivity } from "../../../domain/activities.js";
import { gradeDeliveryDeps } from "../../../functions/grades/deps.js";
import { deliverDueGrades } from "../../../lti-tool/advantage/grades.js";
import {
  enqueueGrades,
  followToApp,
  gradeJob,
  heading,
  type Stack,
  startPlatform,
  startStack,
  tick,
  toolKids,
} from "./harness.js";

let stack: Stack;
let platform: RunningDevPlatform;

beforeAll(async () => {
  stack = await startStack();
  platform = await startPlatform(stack);
});
afterAll(async () => {
  await platform?.stop();
  await stack?.stop();
});

function activity(id: string): Activity {
  const found = findActivity(id);
  if (!found) throw new Error(`No activity ${id} in the catalogue.`);
  return found;
}

/** The content item Deep Linking 2.0 §3.1 describes for one of our activities. */
function expectedItem(a: Activity) {
  return {
    type: "ltiResourceLink",
    title: a.title.en,
    text: a.description.en,
    url: `${stack.tool.url}/app/activity/${a.id}`,
    custom: { activity: a.id },
    ...(a.grading
      ? {
          lineItem: {
            scoreMaximum: a.grading.scoreMaximum,
            label: a.grading.label,
            resourceId: a.id,
            tag: expect.any(String),
          },
        }
      : {}),
  };
}

interface DeepLinkingSettings {
  deep_link_return_url: string;
  data: string;
  accept_multiple: boolean;
}

/** A tutor places activities: picker, choice, the tool's auto-post, the platform's answer. */
async function placeActivities(ids: readonly string[]) {
  const picker = await launch({
    platformUrl: platform.url,
    course: "2",
    user: "tutor",
    message: "deep-linking",
    capture: true,
  });
  // The deep-linking request exactly as the platform sent it.
  const post = picker.exchanges.find((e) => e.step === "launch");
  const idToken = new URLSearchParams(post?.request.body ?? "").get("id_token") ?? "";
  const request = decodeJwt(idToken);
  const settings = request[CLAIM.deepLinkingSettings] as DeepLinkingSettings;

  const response = await submitForm(tick(picker, "activity", ids));
  const before = platform.platform.deepLinkResponses().length;
  const done = await submitForm(response); // the auto-posting form, as the browser submits it
  const records = platform.platform.deepLinkResponses().slice(before);
  return { picker, request, settings, response, done, records };
}

function onlyRecord(records: readonly DeepLinkingResponseRecord[]): DeepLinkingResponseRecord {
  expect(records).toHaveLength(1);
  const record = records[0];
  if (!record) throw new Error("The platform received no deep-linking response.");
  return record;
}

const graded = () => activity("module-standards");
const ungraded = () => activity("cohort");

describe("Deep Linking with the development platform", () => {
  it("shows a tutor every activity of the programme to choose from", async () => {
    const picker = await launch({
      platformUrl: platform.url,
      course: "2",
      user: "tutor",
      message: "deep-linking",
    });
    expect(picker.status).toBe(200);
    const [form] = parseForms(picker.html, picker.url);
    expect(form?.method).toBe("post");
    expect(form?.action.startsWith(`${stack.tool.url}/`)).toBe(true);
    const offered = [...picker.html.matchAll(/<input\b[^>]*\bname="activity"[^>]*>/g)].map(
      (m) => m[0].match(/\bvalue="([^"]+)"/)?.[1],
    );
    for (const kind of ["module", "written-task", "evidence-file", "cohort-view"] as const) {
      for (const a of ACTIVITIES.filter((x) => x.kind === kind)) expect(offered).toContain(a.id);
    }
    // The platform accepts several items, so the tutor may tick several.
    expect(picker.html).toMatch(/<input\b[^>]*type="checkbox"[^>]*name="activity"/);
  });

  it("answers with an LtiDeepLinkingResponse JWT signed and shaped per spec, auto-posted to the return URL", async () => {
    const chosen = [graded().id, ungraded().id];
    const { settings, request, response, done, records } = await placeActivities(chosen);

    // The tool's answer: one form, posting only the JWT to the platform's return URL.
    expect(response.status).toBe(200);
    const [form] = parseForms(response.html, response.url);
    expect(form?.method).toBe("post");
    expect(form?.action).toBe(settings.deep_link_return_url);
    expect(form?.fields.map(([name]) => name)).toEqual(["JWT"]);
    expect(response.html).toMatch(/<script\b[^>]*>[^<]*\.submit\(\)[^<]*<\/script>/);

    // The platform accepted it.
    expect(done.status).toBe(200);
    const record = onlyRecord(records);
    expect(record.error).toBeUndefined();
    expect(record.ok).toBe(true);
    expect(record.jwt).toBe(form?.fields[0]?.[1]);

    // Header: RS256 with a key the tool publishes.
    expect(record.header?.alg).toBe("RS256");
    expect(await toolKids(stack.tool)).toContain(record.header?.kid);

    // Claims (Deep Linking 2.0 §4.5).
    const claims = record.claims ?? {};
    const clientId = platform.platform.tool.clientId;
    expect(claims.iss).toBe(clientId);
    expect(claims.aud).toBe(platform.url);
    expect(typeof claims.nonce).toBe("string");
    expect(String(claims.nonce)).not.toBe("");
    expect(claims.nonce).not.toBe(request.nonce);
    const nowSeconds = Date.now() / 1000;
    expect(typeof claims.iat).toBe("number");
    expect(typeof claims.exp).toBe("number");
    expect(claims.iat).toBeLessThanOrEqual(nowSeconds + 5);
    expect(claims.exp).toBeGreaterThan(nowSeconds);
    expect(Number(claims.exp) - Number(claims.iat)).toBeLessThanOrEqual(3600);
    expect(claims[CLAIM.messageType]).toBe(MESSAGE_TYPE.deepLinkingResponse);
    expect(claims[CLAIM.version]).toBe(LTI_VERSION);
    expect(claims[CLAIM.deploymentId]).toBe(request[CLAIM.deploymentId]);
    expect(claims[CLAIM.deepLinkingData]).toBe(settings.data);

    // Content items: exactly the chosen activities, in the picker's order; a line item only
    // for the graded one.
    const expected = ACTIVITIES.filter((a) => chosen.includes(a.id)).map(expectedItem);
    expect(claims[CLAIM.contentItems]).toStrictEqual(expected);
  });

  it("answers a picker page once: the same page sent again places nothing more", async () => {
    const { picker, records } = await placeActivities([ungraded().id]);
    onlyRecord(records);
    const before = platform.platform.deepLinkResponses().length;
    // The tutor goes back to the picker and sends it again, with another choice.
    const again = await submitForm(tick(picker, "activity", [graded().id]));
    expect(again.status).toBe(400);
    expect(again.html).toContain('data-next-step="relaunch"');
    expect(parseForms(again.html, again.url).some((f) => f.fields.some(([name]) => name === "JWT"))).toBe(
      false,
    );
    expect(platform.platform.deepLinkResponses()).toHaveLength(before);
    // A new deep-linking launch from the course gives a new page, which answers.
    onlyRecord((await placeActivities([graded().id])).records);
  });

  it("launches each placed link straight to its activity, and the graded one has its line item", async () => {
    const { records } = await placeActivities([graded().id, ungraded().id]);
    const record = onlyRecord(records);
    expect(record.links).toHaveLength(2);
    const toolUrl = stack.tool.url;
    const gradedLink = record.links.find((l) => l.targetLinkUri === `${toolUrl}/app/activity/${graded().id}`);
    const ungradedLink = record.links.find(
      (l) => l.targetLinkUri === `${toolUrl}/app/activity/${ungraded().id}`,
    );
    if (!gradedLink || !ungradedLink) throw new Error("The platform did not place both links.");
    expect(gradedLink.custom).toEqual({ activity: graded().id });

    // The line item the content item declared, bound to the graded link only.
    const items = platform.platform.lineItems("2");
    const gradedItems = items.filter((i) => i.resourceLinkId === gradedLink.id);
    expect(gradedItems).toHaveLength(1);
    expect(gradedItems[0]).toMatchObject({
      resourceId: graded().id,
      scoreMaximum: graded().grading?.scoreMaximum,
      label: graded().grading?.label,
      tool: platform.platform.tool.clientId,
    });
    expect(items.filter((i) => i.resourceLinkId === ungradedLink.id)).toHaveLength(0);

    // A candidate opening the graded link lands on that activity, not the home page.
    const opened = await launch({
      platformUrl: platform.url,
      course: "2",
      user: "candidate",
      link: gradedLink.id,
    });
    expect(opened.status).toBe(303);
    const page = await followToApp(stack.tool, opened.headers.get("location"));
    expect(page.status).toBe(200);
    expect(heading(page.html)).toBe(graded().title.en);

    // The tutor opening the cohort-view link lands on the cohort.
    const cohort = await launch({
      platformUrl: platform.url,
      course: "2",
      user: "tutor",
      link: ungradedLink.id,
    });
    expect(cohort.status).toBe(303);
    const cohortPage = await followToApp(stack.tool, cohort.headers.get("location"));
    expect(cohortPage.status).toBe(200);
    expect(cohortPage.html).toContain("Your HLTA cohort");
  });

  it("sends a placed activity's score to the line item its deep link declared, creating none", async () => {
    const { records } = await placeActivities([graded().id]);
    const link = onlyRecord(records).links[0];
    if (!link) throw new Error("No link placed.");
    const declared = platform.platform.lineItems("2").find((i) => i.resourceLinkId === link.id);
    if (!declared) throw new Error("No line item declared.");
    const opened = await launch({ platformUrl: platform.url, course: "2", user: "candidate", link: link.id });
    expect(opened.status).toBe(303);

    const candidate = platform.platform.directory.user("candidate");
    const lineItemsBefore = platform.platform.lineItems("2").length;
    const scoresBefore = platform.platform.scores().length;
    const scoreMaximum = graded().grading?.scoreMaximum ?? 1;
    await enqueueGrades(
      stack.aws,
      gradeJob(
        {
          issuer: platform.url,
          clientId: platform.platform.tool.clientId,
          deploymentId: platform.platform.tool.deploymentId,
          contextId: "2",
        },
        {
          userId: candidate?.id ?? "",
          activityId: graded().id,
          resourceLinkId: link.id,
          scoreGiven: scoreMaximum / 2,
          scoreMaximum,
          label: graded().grading?.label ?? "",
          timestamp: new Date().toISOString(),
        },
      ),
    );
    const report = await deliverDueGrades(
      gradeDeliveryDeps(stack.aws.doc, stack.aws.tableName, stack.tool.deps.signer),
      50,
    );
    expect(report).toEqual({ delivered: 1, retried: 0, parked: 0 });
    const scores = platform.platform.scores().slice(scoresBefore);
    expect(scores).toHaveLength(1);
    const scoresUrl = new URL(declared.url);
    scoresUrl.pathname += "/scores";
    expect(scores[0]?.url).toBe(scoresUrl.toString());
    expect(scores[0]?.status).toBe(200);
    expect(platform.platform.lineItems("2")).toHaveLength(lineItemsBefore);
  });
});
