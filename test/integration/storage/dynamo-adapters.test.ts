import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDynamoClients } from "../../../adapters/dynamo/client.js";
import { DynamoCourseServicesStore } from "../../../adapters/dynamo/course-services.js";
import { DynamoEnrolmentStore } from "../../../adapters/dynamo/enrolments.js";
import { DynamoLaunchRecorder, type LaunchSideEffects } from "../../../adapters/dynamo/launch-recorder.js";
import { DynamoUsedLoginStore } from "../../../adapters/dynamo/login-states.js";
import { DynamoPlatformKeyStore, MAX_SHARED_JWKS_BYTES } from "../../../adapters/dynamo/platform-keys.js";
import { DynamoRegistrationLinkStore } from "../../../adapters/dynamo/registration-links.js";
import { DynamoRegistrationStore } from "../../../adapters/dynamo/registrations.js";
import { DynamoToolKeyStore } from "../../../adapters/dynamo/tool-keys.js";
import { S3EvidenceObjects } from "../../../adapters/s3/evidence-objects.js";
import { ValidationError } from "../../../domain/errors.js";
import { enrolmentRegistration } from "../../../domain/ids.js";
import type { CourseRef } from "../../../domain/tenancy.js";
import { NonceReplayedError, StateReplayedError } from "../../../lti-tool/errors.js";
import { SealedLoginStates } from "../../../lti-tool/login-state.js";
import type { LoginState } from "../../../lti-tool/ports.js";
import {
  ClientIdInUseError,
  PlatformAlreadyRegisteredError,
  registerPlatform,
} from "../../../lti-tool/registration.js";
import { createRegistrationLink, createRegistrationLinkOnce } from "../../../lti-tool/registration-links.js";
import { SessionTokens } from "../../../lti-tool/session.js";
import { randomSecret, StoredKeySigner } from "../../../lti-tool/tool-keys.js";
import { localAwsForTests } from "../../support/local-aws.js";
import { lostAnswerProxy } from "../../support/lost-answer-proxy.js";
import { checkedLaunch } from "../../support/test-platform.js";

let aws: Awaited<ReturnType<typeof localAwsForTests>>;
beforeAll(async () => {
  aws = await localAwsForTests();
});
afterAll(async () => {
  await aws?.stop();
});

const now = () => Math.floor(Date.now() / 1000);
function loginState(nonce: string, overrides: Partial<LoginState> = {}): LoginState {
  return {
    nonce,
    issuer: "https://moodle.test",
    clientId: "c1",
    targetLinkUri: "https://tool.test/app",
    bindingHash: "hash-of-secret",
    binding: "cookie",
    issuedAt: now(),
    expiresAt: now() + 600,
    ...overrides,
  };
}
const sealedStates = (secret = new Uint8Array(32).fill(3)) =>
  new SealedLoginStates(new SessionTokens(secret), new DynamoUsedLoginStore(aws.doc, aws.tableName));

async function sealAndOpen(states: SealedLoginStates, state: LoginState) {
  const sealed = await states.seal(state);
  const opened = await states.open(sealed, now());
  if (!opened) throw new Error("the state did not open");
  return opened;
}

describe("login state (sealed) and its single use on DynamoDB Local", () => {
  it("opens a sealed state with what was sealed, marks it used once, then refuses the replay", async () => {
    const states = sealedStates();
    const opened = await sealAndOpen(states, loginState("n-once", { deploymentId: "d1" }));
    expect(opened).toMatchObject({ nonce: "n-once", issuer: "https://moodle.test", deploymentId: "d1" });
    await states.markUsed(opened);
    await expect(states.markUsed(opened)).rejects.toBeInstanceOf(StateReplayedError);
  });

  it("lets exactly one of many concurrent launches with the same state through", async () => {
    const states = sealedStates();
    const opened = await sealAndOpen(states, loginState("n-race"));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => states.markUsed(opened)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected")) {
      expect(r.reason).toBeInstanceOf(StateReplayedError);
    }
  });

  it("does not open a forged, an expired or a garbled state", async () => {
    const states = sealedStates();
    const forged = await sealedStates(new Uint8Array(32).fill(4)).seal(loginState("n-forged"));
    expect(await states.open(forged, now())).toBeUndefined();
    const expired = await states.seal(loginState("n-old", { issuedAt: now() - 700, expiresAt: now() - 100 }));
    expect(await states.open(expired, now())).toBeUndefined();
    expect(await states.open("never-issued", now())).toBeUndefined();
    expect(await states.open("", now())).toBeUndefined();
  });

  it("refuses a nonce already used by another state, per issuer", async () => {
    const states = sealedStates();
    await states.markUsed(await sealAndOpen(states, loginState("n-1")));
    const other = await sealAndOpen(states, loginState("n-1", { issuedAt: now() - 5 }));
    await expect(states.markUsed(other)).rejects.toBeInstanceOf(NonceReplayedError);
    await states.markUsed(await sealAndOpen(states, loginState("n-1", { issuer: "https://other.test" })));
  });
});

describe("a login's single use when DynamoDB's answer is lost", () => {
  // DynamoDB wrote the claim, the answer never came back, the SDK sent the same request again:
  // that is the same launch, not a replay, whether the claim went alone or in the transaction.
  it("lets the launch through when the SDK retries a claim DynamoDB had already written", async () => {
    const proxy = await lostAnswerProxy(aws.dynamoEndpoint, ["PutItem", "TransactWriteItems"]);
    const { doc, client } = createDynamoClients({ endpoint: proxy.endpoint });
    try {
      const usedLogins = new DynamoUsedLoginStore(doc, aws.tableName);
      const states = new SealedLoginStates(new SessionTokens(new Uint8Array(32).fill(3)), usedLogins);
      const alone = await sealAndOpen(states, loginState("n-lost-put", { issuer: "https://lost.test" }));
      await states.markUsed(alone);

      const enrolments = new DynamoEnrolmentStore(doc, aws.tableName);
      const recorder = new DynamoLaunchRecorder(
        enrolments,
        new DynamoCourseServicesStore(doc, aws.tableName),
        usedLogins,
      );
      const inLaunch = await sealAndOpen(states, loginState("n-lost-tx", { issuer: "https://lost.test" }));
      const launch = checkedLaunch(inLaunch, { sub: "u-lost" });
      await recorder.recordLaunch(launch, new Date(), "module-standards");
      expect(await enrolments.listCourse(launch.course)).toMatchObject([{ userId: "u-lost" }]);

      // Each write ran twice: once answered with the lost 500, once by DynamoDB Local.
      const writes = proxy.calls.filter((c) => c.operation !== "GetItem" && c.operation !== "Query");
      expect(writes).toEqual([
        { operation: "PutItem", status: 500 },
        { operation: "PutItem", status: 400 },
        { operation: "TransactWriteItems", status: 500 },
        { operation: "TransactWriteItems", status: 200 },
      ]);
      // Both logins are spent all the same: another post of either is a replay.
      await expect(states.markUsed(alone)).rejects.toBeInstanceOf(StateReplayedError);
      await expect(states.markUsed(inLaunch)).rejects.toBeInstanceOf(StateReplayedError);
    } finally {
      client.destroy();
      await proxy.stop();
    }
  });
});

describe("platform registrations on DynamoDB Local", () => {
  const input = {
    issuer: "https://canvas.instructure.com",
    clientId: "10000000000001",
    authUrl: "https://sso.canvaslms.com/api/lti/authorize_redirect",
    tokenUrl: "https://sso.canvaslms.com/login/oauth2/token",
    jwksUrl: "https://sso.canvaslms.com/api/lti/security/jwks",
    deploymentIds: ["1:abc"],
  };

  it("registers a platform with deployments, lists it and tells client ids apart", async () => {
    const store = new DynamoRegistrationStore(aws.doc, aws.tableName);
    await registerPlatform(input, store);
    await registerPlatform({ ...input, clientId: "10000000000002", deploymentIds: ["2:def"] }, store);
    expect((await store.platformsByIssuer(input.issuer)).map((p) => p.clientId).sort()).toEqual([
      "10000000000001",
      "10000000000002",
    ]);
    expect(await store.getDeployment(input.issuer, "10000000000001", "1:abc")).toBeDefined();
    expect(await store.getDeployment(input.issuer, "10000000000001", "2:def")).toBeUndefined();
    await store.recordLaunch(input.issuer, "10000000000001", "1:abc", "2026-11-23T10:00:00.000Z");
    const listed = (await store.listPlatforms()).find((r) => r.platform.clientId === "10000000000001");
    expect(listed?.platform.lastLaunchAt).toBe("2026-11-23T10:00:00.000Z");
    expect(listed?.deployments.map((d) => d.deploymentId)).toEqual(["1:abc"]);
  });

  it("saves a platform with several deployments in one transaction, a deployment named twice once", async () => {
    const store = new DynamoRegistrationStore(aws.doc, aws.tableName);
    const many = { ...input, clientId: "10000000000003", deploymentIds: ["3:a", "3:b", "3:a"] };
    await registerPlatform(many, store);
    await store.recordLaunch(input.issuer, "10000000000003", "3:a", "2026-11-24T06:00:00.000Z");
    // Registered again: the deployments' first dates and last launches stay.
    await registerPlatform({ ...many, deploymentIds: ["3:a", "3:c"] }, store);
    const listed = (await store.listPlatforms()).find((r) => r.platform.clientId === "10000000000003");
    expect(listed?.deployments.map((d) => d.deploymentId).sort()).toEqual(["3:a", "3:b", "3:c"]);
    expect(listed?.deployments.find((d) => d.deploymentId === "3:a")?.lastLaunchAt).toBe(
      "2026-11-24T06:00:00.000Z",
    );
  });

  it("finds a client id's registrations whatever their issuer, and refuses it to another issuer unless allowed", async () => {
    const store = new DynamoRegistrationStore(aws.doc, aws.tableName);
    await registerPlatform({ ...input, clientId: "shared-client-4", deploymentIds: ["4"] }, store);
    const other = {
      ...input,
      issuer: "https://other-lms.test",
      clientId: "shared-client-4",
      deploymentIds: ["4"],
    };
    await expect(registerPlatform(other, store)).rejects.toBeInstanceOf(ClientIdInUseError);
    expect((await store.platformsWithClientId("shared-client-4")).map((p) => p.issuer)).toEqual([
      input.issuer,
    ]);
    // The same issuer registering again is an update, not a conflict.
    await registerPlatform({ ...input, clientId: "shared-client-4", deploymentIds: ["5"] }, store);
    expect(await store.getDeployment(input.issuer, "shared-client-4", "5")).toBeDefined();
    // An administrator who knows the two LMSs issued the same id may say so.
    await registerPlatform(other, store, undefined, { allowSharedClientId: true });
    expect((await store.platformsWithClientId("shared-client-4")).map((p) => p.issuer).sort()).toEqual(
      [input.issuer, other.issuer].sort(),
    );
  });

  it("takes a client id for one issuer in the save itself, so a registration racing the check loses", async () => {
    const store = new DynamoRegistrationStore(aws.doc, aws.tableName);
    const at = new Date().toISOString();
    const first = { ...input, clientId: "raced-client", createdAt: at };
    // Both passed the check before either saved: the saves decide.
    await store.savePlatform(first, ["1"], { exclusiveClientId: true });
    const second = store.savePlatform({ ...first, issuer: "https://second-lms.test" }, ["1"], {
      exclusiveClientId: true,
    });
    await expect(second).rejects.toBeInstanceOf(ClientIdInUseError);
    await expect(second.catch((e: ClientIdInUseError) => e.heldBy)).resolves.toEqual([input.issuer]);
    expect(await store.getPlatform("https://second-lms.test", "raced-client")).toBeUndefined();
    // The first issuer saves again (an update) as often as it likes.
    await store.savePlatform(first, ["2"], { exclusiveClientId: true });
    expect(await store.getDeployment(input.issuer, "raced-client", "2")).toBeDefined();
  });

  it("never moves a registration to other addresses when told to keep them, in the save itself", async () => {
    const store = new DynamoRegistrationStore(aws.doc, aws.tableName);
    const at = new Date().toISOString();
    const kept = { ...input, clientId: "kept-client", createdAt: at };
    for (const exclusiveClientId of [true, false]) {
      const platform = { ...kept, clientId: `kept-client-${exclusiveClientId}` };
      // New: saved. Again at the same addresses (a lost answer's retry, a deployment more): saved.
      await store.savePlatform(platform, ["1"], { exclusiveClientId, keepEndpoints: true });
      await store.savePlatform(platform, ["2"], { exclusiveClientId, keepEndpoints: true });
      expect(await store.getDeployment(input.issuer, platform.clientId, "2")).toBeDefined();
      // Elsewhere: refused, nothing written, not even its deployment.
      const moved = store.savePlatform({ ...platform, jwksUrl: "https://evil.test/jwks" }, ["3"], {
        exclusiveClientId,
        keepEndpoints: true,
      });
      await expect(moved).rejects.toBeInstanceOf(PlatformAlreadyRegisteredError);
      // Nor to another audience for its token requests.
      const audience = { ...platform, authServer: "https://evil.test/token" };
      await expect(
        store.savePlatform(audience, ["3"], { exclusiveClientId, keepEndpoints: true }),
      ).rejects.toBeInstanceOf(PlatformAlreadyRegisteredError);
      expect((await store.getPlatform(input.issuer, platform.clientId))?.jwksUrl).toBe(input.jwksUrl);
      expect(await store.getDeployment(input.issuer, platform.clientId, "3")).toBeUndefined();
      // The administrator's own update (without keepEndpoints) may move it.
      await store.savePlatform({ ...platform, jwksUrl: "https://moved.test/jwks" }, ["1"], {
        exclusiveClientId,
      });
      expect((await store.getPlatform(input.issuer, platform.clientId))?.jwksUrl).toBe(
        "https://moved.test/jwks",
      );
    }
  });

  it("keeps a client id with '#' in it apart from another client's deployments", async () => {
    const store = new DynamoRegistrationStore(aws.doc, aws.tableName);
    await registerPlatform({ ...input, clientId: "A", deploymentIds: ["1"] }, store);
    await registerPlatform({ ...input, clientId: "A#DEPLOYMENT#1", deploymentIds: ["2"] }, store);
    expect(await store.getDeployment(input.issuer, "A", "1")).toMatchObject({
      clientId: "A",
      deploymentId: "1",
    });
    expect(await store.getPlatform(input.issuer, "A#DEPLOYMENT#1")).toMatchObject({
      clientId: "A#DEPLOYMENT#1",
    });
    const listed = await store.listPlatforms();
    const deploymentsOf = (clientId: string) =>
      listed.find((r) => r.platform.clientId === clientId)?.deployments.map((d) => d.deploymentId);
    expect(deploymentsOf("A")).toEqual(["1"]);
    // Ids that escaping would take past a sort key's 1,024 bytes are saved and found all the same.
    await registerPlatform({ ...input, clientId: "%".repeat(200), deploymentIds: ["#".repeat(200)] }, store);
    expect(await store.getDeployment(input.issuer, "%".repeat(200), "#".repeat(200))).toBeDefined();
    expect(deploymentsOf("A#DEPLOYMENT#1")).toEqual(["2"]);
  });

  it("registers and lists a platform whose issuer and client id together exceed a sort key", async () => {
    const store = new DynamoRegistrationStore(aws.doc, aws.tableName);
    // 1,015 bytes of issuer and 255 of client id: within their bounds, 1,271 bytes together.
    const issuer = `https://long.lms.example/${"a/".repeat(495)}`.slice(0, 1015);
    const clientId = "c".repeat(255);
    await registerPlatform({ ...input, issuer, clientId, deploymentIds: ["1"] }, store);
    expect(await store.getDeployment(issuer, clientId, "1")).toBeDefined();
    const listed = (await store.listPlatforms()).find((r) => r.platform.issuer === issuer);
    expect(listed?.platform.clientId).toBe(clientId);
  });

  it("refuses an invalid registration with every issue named", async () => {
    const store = new DynamoRegistrationStore(aws.doc, aws.tableName);
    const error = await registerPlatform(
      { ...input, authUrl: "ftp://x", jwksUrl: "http://evil.example/jwks", deploymentIds: [] },
      store,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path).sort()).toEqual([
      "authUrl",
      "deploymentIds",
      "jwksUrl",
    ]);
  });
});

describe("registration links on DynamoDB Local", () => {
  it("makes one link per admin form, however many of its requests arrive at the same instant", async () => {
    const store = new DynamoRegistrationLinkStore(aws.doc, aws.tableName);
    const requestId = "form-request-twice-0001";
    const made = await Promise.all(
      Array.from({ length: 6 }, () => createRegistrationLinkOnce(store, { note: "double click", requestId })),
    );
    const saved = made.filter((m) => m !== undefined);
    expect(saved).toHaveLength(1);
    const listed = (await store.list(now())).filter((l) => l.requestId === requestId);
    expect(listed.map((l) => l.id)).toEqual([saved[0]?.link.id]);
    // Sent again later (a reload): still the one link.
    expect(await createRegistrationLinkOnce(store, { note: "double click", requestId })).toBeUndefined();
    // Another form makes its own.
    expect(
      await createRegistrationLinkOnce(store, { note: "another", requestId: "form-request-other-01" }),
    ).toBeDefined();
  });

  it("keeps a link by its fingerprint, spends it once, lists live ones newest first, and removes it", async () => {
    const store = new DynamoRegistrationLinkStore(aws.doc, aws.tableName);
    const older = await createRegistrationLink(store, { note: "older", now: new Date(Date.now() - 60_000) });
    const newer = await createRegistrationLinkOnce(store, { note: "newer", requestId: "form-request-0001" });
    if (!newer) throw new Error("the form's first request made no link");
    await store.save({ ...older.link, id: "expired-link", note: "expired", expiresAt: now() - 1 });
    expect(await store.get(newer.link.id)).toEqual(newer.link);
    expect((await store.list(now())).find((l) => l.id === newer.link.id)?.requestId).toBe(
      "form-request-0001",
    );
    expect(await store.get("expired-link")).toBeUndefined();
    const notes = (await store.list(now())).map((l) => l.note);
    expect(notes.indexOf("newer")).toBeLessThan(notes.indexOf("older"));
    expect(notes).not.toContain("expired");

    const by = { issuer: "https://moodle.test", clientId: "c9" };
    expect(await store.markUsed(newer.link.id, "2026-11-24T07:00:00.000Z", by)).toBe(true);
    expect(await store.markUsed(newer.link.id, "2026-11-24T07:00:01.000Z", by)).toBe(false);
    expect(await store.get(newer.link.id)).toMatchObject({ usedAt: "2026-11-24T07:00:00.000Z", usedBy: by });
    // A hold is for one registration at a time, until it runs out or is let go.
    const held = await createRegistrationLink(store, { note: "held" });
    expect(await store.claim(held.link.id, now(), now() + 60)).toBe(true);
    expect(await store.claim(held.link.id, now(), now() + 60)).toBe(false);
    expect(await store.claim(held.link.id, now() + 61, now() + 121)).toBe(true);
    await store.release(held.link.id);
    expect(await store.claim(held.link.id, now(), now() + 60)).toBe(true);
    // Spent, and kept a day longer than it would have lived (the registration's "Save again").
    const keep = now() + 90_000;
    expect(await store.markUsed(held.link.id, "2026-11-24T07:00:00.000Z", by, keep)).toBe(true);
    expect(await store.get(held.link.id)).toMatchObject({ expiresAt: keep });
    expect((await store.get(held.link.id))?.claimedUntil).toBeUndefined();
    expect(await store.claim(held.link.id, now() + 999, now() + 1059)).toBe(false);
    // Letting go of a removed link does not bring it back.
    await store.remove(held.link.id);
    await store.release(held.link.id);
    expect(await store.get(held.link.id)).toBeUndefined();
    // A link that is not there is not "used" by marking it.
    expect(await store.markUsed("no-such-link", "2026-11-24T07:00:00.000Z", by)).toBe(false);
    await store.remove(older.link.id);
    expect(await store.get(older.link.id)).toBeUndefined();
  });
});

describe("enrolments are scoped to tenant and course", () => {
  it("records launches per course and never shows one tenant's people to another", async () => {
    const store = new DynamoEnrolmentStore(aws.doc, aws.tableName);
    const courseA: CourseRef = {
      issuer: "https://a.test",
      clientId: "c",
      deploymentId: "1",
      contextId: "course-1",
    };
    const courseB: CourseRef = { ...courseA, deploymentId: "2" };
    const at = "2026-11-23T09:00:00.000Z";
    for (const [course, user] of [
      [courseA, "u1"],
      [courseA, "u2"],
      [courseB, "u3"],
    ] as const) {
      await store.recordLaunch({
        course,
        userId: user,
        role: "candidate",
        ltiRoles: [],
        registration: enrolmentRegistration(course, user),
        firstLaunchAt: at,
        lastLaunchAt: at,
      });
    }
    // A second launch keeps the first launch date and the registration.
    await store.recordLaunch({
      course: courseA,
      userId: "u1",
      role: "candidate",
      ltiRoles: [],
      name: "Una",
      registration: "00000000-0000-5000-8000-000000000000",
      firstLaunchAt: "2026-11-24T09:00:00.000Z",
      lastLaunchAt: "2026-11-24T09:00:00.000Z",
    });
    const a = await store.listCourse(courseA);
    expect(a.map((e) => e.userId).sort()).toEqual(["u1", "u2"]);
    const u1 = a.find((e) => e.userId === "u1");
    expect(u1).toMatchObject({ name: "Una", firstLaunchAt: at, lastLaunchAt: "2026-11-24T09:00:00.000Z" });
    expect(u1?.registration).toBe(enrolmentRegistration(courseA, "u1"));
    expect((await store.listCourse(courseB)).map((e) => e.userId)).toEqual(["u3"]);
  });
});

describe("a launch recorded with its login's single use, on DynamoDB Local", () => {
  const launchRecorder = (sideEffects?: LaunchSideEffects) => {
    const enrolments = new DynamoEnrolmentStore(aws.doc, aws.tableName);
    const recorder = new DynamoLaunchRecorder(
      enrolments,
      new DynamoCourseServicesStore(aws.doc, aws.tableName),
      new DynamoUsedLoginStore(aws.doc, aws.tableName),
      sideEffects,
    );
    return { enrolments, recorder };
  };

  it("writes the enrolment and spends the login in one transaction; a replay is refused and writes nothing", async () => {
    const states = sealedStates();
    const { enrolments, recorder } = launchRecorder();
    const first = await sealAndOpen(states, loginState("n-recorded", { issuer: "https://rec.test" }));
    const at = new Date();
    const launch = checkedLaunch(first, { sub: "u-rec", name: "First" });
    await recorder.recordLaunch(launch, at, "module-standards");
    const recorded = await enrolments.listCourse(launch.course);
    expect(recorded).toMatchObject([{ userId: "u-rec", name: "First" }]);

    // The same state again, then its nonce under another state: each refused, nothing written.
    await expect(
      recorder.recordLaunch(checkedLaunch(first, { sub: "u-rec", name: "Replayed" }), at, "module-standards"),
    ).rejects.toBeInstanceOf(StateReplayedError);
    const other = await sealAndOpen(
      states,
      loginState("n-recorded", { issuer: "https://rec.test", targetLinkUri: "https://tool.test/app/other" }),
    );
    await expect(
      recorder.recordLaunch(checkedLaunch(other, { sub: "u-other" }), at, "module-standards"),
    ).rejects.toBeInstanceOf(NonceReplayedError);
    expect(await enrolments.listCourse(launch.course)).toEqual(recorded);
    // The recorder's claim is the one markUsed makes.
    await expect(states.markUsed(first)).rejects.toBeInstanceOf(StateReplayedError);
  });

  it("spends a returning person's login alone while their enrolment is current, and refuses its replay", async () => {
    const states = sealedStates();
    const { enrolments, recorder } = launchRecorder();
    const issuer = "https://returning.test";
    const first = await sealAndOpen(states, loginState("n-ret-1", { issuer }));
    const at = new Date();
    await recorder.recordLaunch(checkedLaunch(first, { sub: "u-ret", name: "Ann" }), at, "module-standards");
    const written = await enrolments.listCourse(checkedLaunch(first).course);
    expect(written).toMatchObject([{ userId: "u-ret", name: "Ann", lastLaunchAt: at.toISOString() }]);

    // Thirty seconds on, the same person unchanged: the login is spent, the enrolment left as it was.
    const second = await sealAndOpen(states, loginState("n-ret-2", { issuer }));
    const later = new Date(at.getTime() + 30_000);
    const enrolment = await recorder.recordLaunch(
      checkedLaunch(second, { sub: "u-ret", name: "Ann" }),
      later,
      "module-standards",
    );
    expect(enrolment.lastLaunchAt).toBe(later.toISOString());
    expect(await enrolments.listCourse(checkedLaunch(second).course)).toEqual(written);
    await expect(states.markUsed(second)).rejects.toBeInstanceOf(StateReplayedError);
    await expect(
      recorder.recordLaunch(checkedLaunch(second, { sub: "u-ret", name: "Ann" }), later, "module-standards"),
    ).rejects.toBeInstanceOf(StateReplayedError);

    // Renamed in the LMS: written at once.
    const third = await sealAndOpen(states, loginState("n-ret-3", { issuer }));
    await recorder.recordLaunch(
      checkedLaunch(third, { sub: "u-ret", name: "Ann Smith" }),
      later,
      "module-standards",
    );
    expect(await enrolments.listCourse(checkedLaunch(third).course)).toMatchObject([
      {
        userId: "u-ret",
        name: "Ann Smith",
        lastLaunchAt: later.toISOString(),
        firstLaunchAt: at.toISOString(),
      },
    ]);
  });

  it("keeps a teacher's role when they switch to a student's view and back across two instances", async () => {
    const states = sealedStates();
    const a = launchRecorder();
    const b = launchRecorder();
    const issuer = "https://switch-role.test";
    const as = async (nonce: string, role: "tutor" | "candidate") => {
      const l = checkedLaunch(await sealAndOpen(states, loginState(nonce, { issuer })), { sub: "u-teacher" });
      return role === "tutor"
        ? {
            ...l,
            user: {
              ...l.user,
              role,
              ltiRoles: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
            },
          }
        : l;
    };
    const at = new Date();
    const later = (ms: number) => new Date(at.getTime() + ms);
    // A teacher on instance A, then in a student's view on B, then as the teacher on A again.
    await a.recorder.recordLaunch(await as("n-sw-1", "tutor"), at, "module-standards");
    await b.recorder.recordLaunch(await as("n-sw-2", "candidate"), later(10_000), "module-standards");
    const back = await as("n-sw-3", "tutor");
    await a.recorder.recordLaunch(back, later(20_000), "module-standards");
    expect(await a.enrolments.listCourse(back.course)).toMatchObject([
      { userId: "u-teacher", role: "tutor", lastLaunchAt: later(20_000).toISOString() },
    ]);
  });

  it("spends nothing and writes nothing when the launch's transaction fails for another reason", async () => {
    const states = sealedStates();
    // A side effect whose own condition fails (an outbox item recorded twice would, for one).
    const { enrolments, recorder: failing } = launchRecorder(async () => [
      {
        Put: {
          TableName: aws.tableName,
          Item: { pk: "TEST#never", sk: "never" },
          ConditionExpression: "attribute_exists(pk)",
        },
      },
    ]);
    const opened = await sealAndOpen(states, loginState("n-unspent", { issuer: "https://unspent.test" }));
    const launch = checkedLaunch(opened, { sub: "u-unspent" });
    await expect(failing.recordLaunch(launch, new Date(), "module-standards")).rejects.toHaveProperty(
      "name",
      "TransactionCanceledException",
    );
    expect(await enrolments.listCourse(launch.course)).toEqual([]);
    // The login was not spent: the person's next post of the same launch can still go through.
    await states.markUsed(opened);
  });
});

describe("platform keys shared in the table", () => {
  const jwks = (kid: string) => ({ keys: [{ kty: "RSA", kid, n: "x".repeat(342), e: "AQAB", use: "sig" }] });

  it("keeps an LMS's keys exactly, by URL, and never lets older keys replace newer ones", async () => {
    const store = new DynamoPlatformKeyStore(aws.doc, aws.tableName);
    const url = `https://moodle.test/mod/lti/certs.php?run=${Date.now()}`;
    const t = Date.now();
    expect(await store.get(url)).toBeUndefined();
    await store.put(url, { jwks: jwks("k2"), fetchedAt: t });
    expect(await store.get(url)).toEqual({ jwks: jwks("k2"), fetchedAt: t });
    // An instance that fetched earlier and writes later does not put older keys back.
    await store.put(url, { jwks: jwks("k1"), fetchedAt: t - 1_000 });
    expect((await store.get(url))?.jwks).toEqual(jwks("k2"));
    await store.put(url, { jwks: jwks("k3"), fetchedAt: t + 1_000 });
    expect((await store.get(url))?.jwks).toEqual(jwks("k3"));
    // Another URL has its own keys.
    expect(await store.get(`${url}&other`)).toBeUndefined();
  });

  it("replaces keys dated further ahead of the writer's clock than clocks drift, and only those", async () => {
    const t = Date.now();
    const store = new DynamoPlatformKeyStore(aws.doc, aws.tableName, () => t);
    const url = `https://moodle.test/mod/lti/certs.php?ahead=${t}`;
    // An instance whose clock ran 30 s ahead: within the drift allowed, its keys stand.
    await store.put(url, { jwks: jwks("ahead30s"), fetchedAt: t + 30_000 });
    await store.put(url, { jwks: jwks("now"), fetchedAt: t });
    expect((await store.get(url))?.jwks).toEqual(jwks("ahead30s"));
    // One whose clock ran an hour ahead would hold the item for an hour: replaced at once.
    await store.put(url, { jwks: jwks("ahead1h"), fetchedAt: t + 3_600_000 });
    await store.put(url, { jwks: jwks("now"), fetchedAt: t });
    expect(await store.get(url)).toEqual({ jwks: jwks("now"), fetchedAt: t });
  });

  it("forgets keys past their time, and refuses to share a key set an item cannot hold", async () => {
    const store = new DynamoPlatformKeyStore(aws.doc, aws.tableName);
    const url = `https://canvas.test/api/lti/security/jwks?run=${Date.now()}`;
    // Fetched three days ago: the item's TTL has passed, DynamoDB has not removed it yet.
    const threeDaysAgo = Date.now() - 3 * 24 * 60 * 60_000;
    await store.put(url, { jwks: jwks("old"), fetchedAt: threeDaysAgo });
    expect(await store.get(url)).toBeUndefined();
    const huge = { keys: [{ kty: "RSA", kid: "big", n: "x".repeat(MAX_SHARED_JWKS_BYTES), e: "AQAB" }] };
    await expect(store.put(`${url}&huge`, { jwks: huge, fetchedAt: Date.now() })).rejects.toThrow(
      /not shared/,
    );
  });
});

describe("tool keys in the table", () => {
  it("creates one key and one session secret however many cold starts race", async () => {
    const store = new DynamoToolKeyStore(aws.doc, aws.tableName);
    const secrets = await Promise.all(
      Array.from({ length: 5 }, () => store.getOrCreateSecret("race", () => randomSecret())),
    );
    expect(new Set(secrets.map((s) => Buffer.from(s).toString("hex"))).size).toBe(1);
    expect(await store.listKeys()).toEqual([]);
    const racing = await Promise.all(Array.from({ length: 5 }, () => new StoredKeySigner(store).ensureKey()));
    expect(new Set(racing.map((k) => k.kid)).size).toBe(1);
    expect((await store.listKeys()).map((k) => k.kid)).toEqual([racing[0]?.kid]);
    const signer = new StoredKeySigner(store);
    const key = await signer.ensureKey();
    expect(key.kid).toBe(racing[0]?.kid);
    const { current } = await signer.rotate();
    expect((await signer.jwks()).keys.map((k) => k.kid).sort()).toEqual([key.kid, current.kid].sort());
  });

  it("marking a key removed meanwhile (two rotations at once) leaves no half key behind", async () => {
    const store = new DynamoToolKeyStore(aws.doc, aws.tableName);
    const signer = new StoredKeySigner(store);
    await signer.ensureKey();
    const { current } = await signer.rotate();
    await store.removeKey(current.kid);
    await store.markSuperseded(current.kid, new Date().toISOString());
    const listed = await store.listKeys();
    expect(listed.map((k) => k.kid)).not.toContain(current.kid);
    expect((await signer.jwks()).keys.length).toBeGreaterThan(0);
  });
});

describe("evidence objects on s3rver", () => {
  /** A course of tenant `https://a.test`, by its context id. */
  const courseAt = (contextId: string): CourseRef => ({
    issuer: "https://a.test",
    clientId: "c",
    deploymentId: "1",
    contextId,
  });
  it("stores and reads back an object under the tenant's and course's prefix only", async () => {
    const objects = new S3EvidenceObjects(aws.s3, aws.bucketName);
    const course = courseAt("k");
    const other: CourseRef = { ...course, issuer: "https://b.test" };
    const { objectId, key } = await objects.put(course, "u1", "PDF-BYTES", "application/pdf");
    expect(key).not.toContain("u1");
    expect(Buffer.from((await objects.get(course, "u1", objectId)) ?? []).toString()).toBe("PDF-BYTES");
    expect(await objects.list(course, "u1")).toEqual([objectId]);
    expect(await objects.list(other, "u1")).toEqual([]);
    // Another course's id, or one the tool never made, reads as nothing there, not as an error.
    expect(await objects.get(other, "u1", objectId)).toBeUndefined();
    expect(await objects.get(course, "u1", "../../x")).toBeUndefined();
  });

  it("keys an object by an id it makes, never by a name a person typed (which may name a pupil)", async () => {
    const objects = new S3EvidenceObjects(aws.s3, aws.bucketName);
    const course = courseAt("names");
    const { key } = await objects.put(course, "u2", "observation notes", "text/plain");
    expect(key).toMatch(/\/users\/[A-Za-z0-9_-]{22}\/[0-9a-f-]{36}$/);
    expect(Buffer.byteLength(key)).toBeLessThan(1024);
  });

  it("lists every page of a person's objects", async () => {
    // Pages of two keys, as S3's of 1,000: five objects take three pages.
    const objects = new S3EvidenceObjects(aws.s3, aws.bucketName, undefined, 2);
    const course = courseAt("many");
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await objects.put(course, "u3", `x${i}`, "text/plain")).objectId);
    const listed = await objects.list(course, "u3");
    expect(listed).toHaveLength(5);
    expect(new Set(listed)).toEqual(new Set(made));
  });
});
