import { beforeEach, describe, expect, it } from "vitest";
import { CLAIM, type DevPlatform, MEDIA_TYPE, SCOPE } from "../../../dev/platform/index.js";
import { accessToken, launchClaims, newPlatform, PLATFORM_URL, TOOL } from "./fixtures.js";

const MEMBERSHIPS = `${PLATFORM_URL}/mod/lti/services.php/CourseSection/2/bindings/1/memberships`;

interface Member {
  status: string;
  name: string;
  given_name: string;
  family_name: string;
  email: string;
  user_id: string;
  roles: string[];
}
interface Container {
  id: string;
  context: { id: string; label: string; title: string };
  members: Member[];
}

let platform: DevPlatform;
let token: string;
beforeEach(async () => {
  platform = await newPlatform();
  token = await accessToken(platform, [SCOPE.memberships]);
});

async function get(
  url: string,
  bearer: string | null = token,
  accept: string = MEDIA_TYPE.membershipContainer,
) {
  const headers: Record<string, string> = { accept };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const res = await platform.app.request(url, { headers });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Container };
}

const next = (link: string | null) => /<([^>]+)>;\s*rel="next"/.exec(link ?? "")?.[1];

/** Every member, following rel="next" (bounded). */
async function everyone(url: string): Promise<Member[]> {
  const members: Member[] = [];
  let at: string | undefined = url;
  for (let page = 0; at && page < 20; page++) {
    const res = await get(at);
    expect(res.status).toBe(200);
    members.push(...res.json.members);
    at = next(res.headers.get("link"));
  }
  return members;
}

describe("the NRPS claim in launches", () => {
  it("names the course's memberships URL and version 2.0", async () => {
    const claims = await launchClaims(platform, { course: "2", user: "candidate" });
    expect(claims[CLAIM.nrpsService]).toEqual({
      context_memberships_url: MEMBERSHIPS,
      service_versions: ["2.0"],
    });
  });

  it("is absent when the tool was not granted the memberships scope", async () => {
    platform = await newPlatform({ tool: { ...TOOL, scopes: [SCOPE.score] } });
    const claims = await launchClaims(platform, { course: "2", user: "candidate" });
    expect(claims[CLAIM.nrpsService]).toBeUndefined();
  });
});

describe("context memberships", () => {
  it("answers a membership container, 10 members a page, with Link rel=next", async () => {
    const res = await get(MEMBERSHIPS);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(MEDIA_TYPE.membershipContainer);
    expect(res.json.id).toBe(MEMBERSHIPS);
    expect(res.json.context).toEqual({
      id: "2",
      label: "HLTA-SEP25",
      title: "HLTA preparation: September 2025 cohort",
    });
    expect(res.json.members).toHaveLength(10);
    expect(res.json.members[0]).toEqual({
      status: "Active",
      name: "Priya Shah",
      given_name: "Priya",
      family_name: "Shah",
      email: "priya.shah@dev-platform.test",
      user_id: "3",
      roles: ["Instructor"],
    });
    expect(res.headers.get("link")).toBe(`<${MEMBERSHIPS}?limit=10&from=10>; rel="next"`);
  });

  it("lists the whole cohort over three pages, with short role names, including candidates who never launched", async () => {
    const members = await everyone(MEMBERSHIPS);
    expect(members).toHaveLength(29);
    expect(new Set(members.map((m) => m.user_id)).size).toBe(29);
    expect(new Set(members.map((m) => m.name)).size).toBe(29);
    expect(members.filter((m) => m.roles[0] === "Learner")).toHaveLength(28);
    expect(members.find((m) => m.user_id === "4")).toMatchObject({ name: "Sam Taylor", roles: ["Learner"] });
    expect(members.find((m) => m.user_id === "31")).toMatchObject({
      name: "Zara Hussain",
      roles: ["Learner"],
    });
    // Site administrators are not enrolled, so not members.
    expect(members.some((m) => m.user_id === "2")).toBe(false);
  });

  it("takes the tool's limit, and pages with from", async () => {
    const res = await get(`${MEMBERSHIPS}?limit=25`);
    expect(res.json.members).toHaveLength(25);
    const rest = await get(next(res.headers.get("link")) ?? "");
    expect(rest.json.members).toHaveLength(4);
    expect(rest.headers.get("link")).toBeNull();
    expect((await get(`${MEMBERSHIPS}?limit=-1`)).status).toBe(400);
  });

  it("lists everyone on one page when paging is off (Moodle's default)", async () => {
    platform = await newPlatform({ membershipsPageSize: 0 });
    token = await accessToken(platform, [SCOPE.memberships]);
    const res = await get(MEMBERSHIPS);
    expect(res.json.members).toHaveLength(29);
    expect(res.headers.get("link")).toBeNull();
  });

  it.each([
    ["Instructor", 1],
    ["Learner", 28],
    ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor", 1],
  ])("filters by role=%s", async (role, count) => {
    expect(await everyone(`${MEMBERSHIPS}?role=${encodeURIComponent(role)}`)).toHaveLength(count);
  });

  it("lists the January cohort for course 3", async () => {
    const res = await get(`${PLATFORM_URL}/mod/lti/services.php/CourseSection/3/bindings/1/memberships`);
    expect(res.json.members.map((m) => [m.user_id, m.roles])).toEqual([
      ["3", ["Instructor"]],
      ["6", ["Learner"]],
    ]);
  });

  it("needs the memberships scope", async () => {
    const scoreOnly = await accessToken(platform, [SCOPE.score]);
    expect((await get(MEMBERSHIPS, scoreOnly)).status).toBe(403);
    expect((await get(MEMBERSHIPS, null)).status).toBe(401);
  });

  it("answers 404 for an unknown course or tool, 406 for a media type it cannot give", async () => {
    expect(
      (await get(`${PLATFORM_URL}/mod/lti/services.php/CourseSection/9/bindings/1/memberships`)).status,
    ).toBe(404);
    expect(
      (await get(`${PLATFORM_URL}/mod/lti/services.php/CourseSection/2/bindings/9/memberships`)).status,
    ).toBe(404);
    expect((await get(MEMBERSHIPS, token, "text/html")).status).toBe(406);
  });
});
