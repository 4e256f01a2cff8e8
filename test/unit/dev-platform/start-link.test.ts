import { describe, expect, it } from "vitest";
import { START_LINK_NOTE, startRunLink } from "../../../dev/start-link.js";
import { sha256b64url } from "../../../lti-tool/crypto.js";
import { createRegistrationLink } from "../../../lti-tool/registration-links.js";
import { MemoryRegistrationLinkStore } from "../../support/memory-stores.js";

describe("the registration link npm start makes", () => {
  it("replaces earlier runs' unused links, and keeps used ones and the administrator's", async () => {
    const store = new MemoryRegistrationLinkStore();
    const now = new Date("2026-11-24T09:00:00Z");
    const seconds = Math.floor(now.getTime() / 1000);
    const mine = await createRegistrationLink(store, { note: "St Mary's Moodle", now });
    const used = await createRegistrationLink(store, { note: START_LINK_NOTE, now });
    await store.markUsed(used.link.id, now.toISOString(), { issuer: "https://lms.test", clientId: "c" });
    await startRunLink(store, now);
    const first = await startRunLink(store, now);
    const second = await startRunLink(store, now);
    const ids = (await store.list(seconds)).map((l) => l.id).sort();
    expect(ids).toEqual([mine.link.id, used.link.id, sha256b64url(second)].sort());
    expect(await store.get(sha256b64url(first))).toBeUndefined();
  });
});
