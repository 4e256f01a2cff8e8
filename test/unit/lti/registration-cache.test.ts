import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { DynamoCourseServicesStore, WRITTEN_MEMO_MS } from "../../../adapters/dynamo/course-services.js";
import { CachedRegistrationStore } from "../../../lti-tool/registration-cache.js";
import { MemoryRegistrationStore } from "../../support/memory-stores.js";

const platform = {
  issuer: "https://moodle.test",
  clientId: "c",
  authUrl: "https://moodle.test/a",
  tokenUrl: "https://moodle.test/t",
  jwksUrl: "https://moodle.test/j",
  createdAt: "2026-01-01T00:00:00.000Z",
};

class CountingStore extends MemoryRegistrationStore {
  reads = 0;
  launchWrites = 0;
  failLaunchWrites = 0;
  override async getPlatform(issuer: string, clientId: string) {
    this.reads++;
    return super.getPlatform(issuer, clientId);
  }
  override async getDeployment(issuer: string, clientId: string, deploymentId: string) {
    this.reads++;
    return super.getDeployment(issuer, clientId, deploymentId);
  }
  override async recordLaunch(issuer: string, clientId: string, deploymentId: string, at: string) {
    this.launchWrites++;
    if (this.failLaunchWrites > 0) {
      this.failLaunchWrites--;
      throw new Error("DynamoDB is unavailable");
    }
    return super.recordLaunch(issuer, clientId, deploymentId, at);
  }
}

describe("registration cache", () => {
  it("reads a registration once per TTL, and again after it", async () => {
    let now = 0;
    const inner = new CountingStore();
    await inner.savePlatform(platform, ["1"]);
    const cache = new CachedRegistrationStore(inner, { ttlMs: 1000, now: () => now });
    await cache.getPlatform(platform.issuer, "c");
    await cache.getPlatform(platform.issuer, "c");
    expect(inner.reads).toBe(1);
    now = 1001;
    await cache.getPlatform(platform.issuer, "c");
    expect(inner.reads).toBe(2);
  });

  it("remembers an unregistered deployment only briefly, so a new registration is seen soon", async () => {
    let now = 0;
    const inner = new CountingStore();
    await inner.savePlatform(platform, ["1"]);
    const cache = new CachedRegistrationStore(inner, { negativeTtlMs: 100, now: () => now });
    expect(await cache.getDeployment(platform.issuer, "c", "2")).toBeUndefined();
    await inner.addDeployment({ issuer: platform.issuer, clientId: "c", deploymentId: "2", createdAt: "x" });
    expect(await cache.getDeployment(platform.issuer, "c", "2")).toBeUndefined();
    now = 101;
    expect(await cache.getDeployment(platform.issuer, "c", "2")).toBeDefined();
  });

  it("forgets everything when a registration is saved through it", async () => {
    const inner = new CountingStore();
    const cache = new CachedRegistrationStore(inner);
    expect(await cache.getPlatform(platform.issuer, "c")).toBeUndefined();
    await cache.savePlatform(platform, ["1"]);
    expect(await cache.getPlatform(platform.issuer, "c")).toBeDefined();
  });

  it("writes lastLaunchAt at most once per interval per deployment", async () => {
    let now = 0;
    const inner = new CountingStore();
    const cache = new CachedRegistrationStore(inner, { launchWriteEveryMs: 1000, now: () => now });
    await cache.recordLaunch(platform.issuer, "c", "1", "t1");
    await cache.recordLaunch(platform.issuer, "c", "1", "t2");
    await cache.recordLaunch(platform.issuer, "c", "2", "t3");
    now = 1001;
    await cache.recordLaunch(platform.issuer, "c", "1", "t4");
    expect(inner.launchWrites).toBe(3);
  });

  it("tries lastLaunchAt again on the next launch when the write failed", async () => {
    const inner = new CountingStore();
    inner.failLaunchWrites = 1;
    // The clock moves on while the write is under way, as it does in production.
    let now = 0;
    const cache = new CachedRegistrationStore(inner, { launchWriteEveryMs: 1000, now: () => now++ });
    await expect(cache.recordLaunch(platform.issuer, "c", "1", "t1")).rejects.toThrow("unavailable");
    await cache.recordLaunch(platform.issuer, "c", "1", "t2");
    await cache.recordLaunch(platform.issuer, "c", "1", "t3");
    expect(inner.launchWrites).toBe(2);
  });
});

describe("course service writes at launch", () => {
  const course = { issuer: "https://moodle.test", clientId: "c", deploymentId: "1", contextId: "k" };
  const services = { agsScopes: ["s"], lineItemsUrl: "https://moodle.test/li", updatedAt: "t1" };
  const link = { resourceLinkId: "rl", activityId: "home" };
  let clock = 0;
  const store = () =>
    new DynamoCourseServicesStore(
      DynamoDBDocumentClient.from(new DynamoDBClient({ region: "eu-west-2" })),
      "t",
      { now: () => clock },
    );

  it("writes unchanged endpoints once, and again when they change", () => {
    const s = store();
    const first = s.launchWrites(course, services, link);
    expect(first.items).toHaveLength(2);
    first.written();
    expect(s.launchWrites(course, { ...services, updatedAt: "t2" }, link).items).toHaveLength(0);
    expect(
      s.launchWrites(course, { ...services, lineItemsUrl: "https://moodle.test/li2" }, link).items,
    ).toHaveLength(1);
  });

  it("writes unchanged endpoints again a minute on: another instance may have written others meanwhile", () => {
    clock = 0;
    // Instance A writes the full scopes; B, after the LMS's settings changed, the read-only ones.
    const a = store();
    a.launchWrites(course, services, link).written();
    const b = store();
    b.launchWrites(course, { ...services, agsScopes: ["read-only"] }, link).written();
    // The settings change back: A's next launch within the minute trusts its own last write...
    clock = WRITTEN_MEMO_MS - 1;
    expect(a.launchWrites(course, services, link).items).toHaveLength(0);
    // ...and after it writes them again, so the table holds the LMS's current endpoints.
    clock = WRITTEN_MEMO_MS;
    const again = a.launchWrites(course, services, link);
    expect(again.items).toHaveLength(2);
    again.written();
    clock = WRITTEN_MEMO_MS + 1;
    expect(a.launchWrites(course, services, link).items).toHaveLength(0);
  });

  it("writes again after a launch whose transaction failed", () => {
    const s = store();
    s.launchWrites(course, services, link); // never marked written: the transaction failed
    expect(s.launchWrites(course, services, link).items).toHaveLength(2);
  });
});
