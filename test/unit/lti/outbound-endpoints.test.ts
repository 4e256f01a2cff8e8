import { afterEach, describe, expect, it } from "vitest";
import {
  allowLoopbackEndpoints,
  EndpointRefusedError,
  getFollowingSafeRedirects,
  isEndpointUrl,
} from "../../../domain/endpoints.js";
import {
  RegistrationConfigUnreachableError,
  registerWithPlatform,
} from "../../../lti-tool/dynamic-registration.js";
import { PlatformJwksUnavailableError } from "../../../lti-tool/errors.js";
import { PlatformJwksCache } from "../../../lti-tool/platform-jwks.js";
import { TOOL_URLS } from "../../support/test-platform.js";

/**
 * A web of addresses: each answers a redirect to the next, or a body; every request is recorded.
 * Like fetch, it follows redirects itself unless asked for `redirect: "manual"`.
 */
function web(answers: Record<string, string | { to: string }>) {
  const seen: { url: string; authorization: string | null }[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    let url = String(input instanceof Request ? input.url : input);
    for (let hop = 0; hop < 20; hop++) {
      seen.push({ url, authorization: new Headers(init?.headers).get("authorization") });
      const answer = answers[url];
      if (answer === undefined) return new Response("not found", { status: 404 });
      if (typeof answer === "string") return new Response(answer, { status: 200 });
      if (init?.redirect === "manual")
        return new Response(null, { status: 302, headers: { location: answer.to } });
      url = new URL(answer.to, url).href;
    }
    throw new TypeError("redirect count exceeded");
  };
  return { fetchImpl, seen };
}

afterEach(() => allowLoopbackEndpoints(false));

describe("which addresses the tool calls", () => {
  it("calls https anywhere; plain http only to loopback, and only when the tool runs locally", () => {
    expect(isEndpointUrl("https://moodle.school.test/x")).toBe(true);
    expect(isEndpointUrl("http://moodle.school.test/x")).toBe(false);
    expect(isEndpointUrl("http://127.0.0.1:9001/2018-06-01/runtime/invocation/next")).toBe(false);
    expect(isEndpointUrl("ftp://moodle.school.test/x")).toBe(false);
    allowLoopbackEndpoints();
    expect(isEndpointUrl("http://127.0.0.1:8080/x")).toBe(true);
    expect(isEndpointUrl("http://[::1]:8080/x")).toBe(true);
    expect(isEndpointUrl("http://127.0.0.2:8080/x")).toBe(false);
    expect(isEndpointUrl("http://moodle.school.test/x")).toBe(false);
  });

  it("refuses an address written as a private, loopback or link-local IP, https or not, whatever form it takes", () => {
    for (const internal of [
      "https://localhost/x",
      "https://api.localhost/x",
      "https://127.0.0.1:9001/2018-06-01/runtime/invocation/next",
      "https://2130706433/x", // 127.0.0.1 as one number
      "https://0x7f.1/x", // and in hex
      "https://10.1.2.3/x",
      "https://172.20.0.1/x",
      "https://192.168.1.10/x",
      "https://169.254.169.254/latest/meta-data/",
      "https://100.64.0.1/x",
      "https://0.0.0.0/x",
      "https://[::1]/x",
      "https://[::]/x",
      "https://[::ffff:127.0.0.1]/x",
      "https://[::ffff:169.254.169.254]/x",
      "https://[64:ff9b::a9fe:a9fe]/x",
      "https://[fd12:3456::1]/x",
      "https://[fe80::1]/x",
      "https://localhost./x", // a trailing dot names the same host
      "https://api.localhost./x",
      "https://[::127.0.0.1]/x", // IPv4-compatible
      "https://[::ffff:0:127.0.0.1]/x",
      "https://[64:ff9b:1::a9fe:a9fe]/x", // local-use NAT64
      "https://[2002:a9fe:a9fe::]/x", // 6to4 of 169.254.169.254
      "https://[fec0::1]/x",
      // Names only a local resolver answers: /etc/hosts's loopback names, one label, private-use suffixes.
      "https://localhost4/x",
      "https://ip6-localhost/x",
      "https://localhost.localdomain/x",
      "https://localhost6.localdomain6/x",
      "https://metadata/computeMetadata/v1/",
      "https://metadata.google.internal/x",
      "https://printer.local/x",
      "https://router.home.arpa/x",
      "https://LOCALHOST4./x",
    ]) {
      expect(isEndpointUrl(internal), internal).toBe(false);
    }
    for (const external of [
      "https://8.8.8.8/x",
      "https://172.32.0.1/x",
      "https://[2606:4700::1111]/x",
      "https://[::ffff:8.8.8.8]/x",
      "https://[2002:808:808::]/x", // 6to4 of a public address
      "https://moodle.school.test/x",
      "https://vle.local-authority.sch.uk/x", // "local" inside a name is not the .local suffix
      "https://canvas.internalaudit.example/x",
    ]) {
      expect(isEndpointUrl(external), external).toBe(true);
    }
    // Locally, loopback is the development platform's and the LRS double's, over http or https.
    allowLoopbackEndpoints();
    expect(isEndpointUrl("https://127.0.0.1:8443/x")).toBe(true);
    expect(isEndpointUrl("https://10.1.2.3/x")).toBe(false);
  });

  it("follows https redirects, sending the authorization to the first origin only", async () => {
    const { fetchImpl, seen } = web({
      "https://a.test/one": { to: "/two" },
      "https://a.test/two": { to: "https://b.test/three" },
      "https://b.test/three": "done",
    });
    const res = await getFollowingSafeRedirects(
      "https://a.test/one",
      { headers: { authorization: "Bearer secret", accept: "application/json" } },
      fetchImpl,
    );
    expect(await res.text()).toBe("done");
    expect(seen).toEqual([
      { url: "https://a.test/one", authorization: "Bearer secret" },
      { url: "https://a.test/two", authorization: "Bearer secret" },
      { url: "https://b.test/three", authorization: null },
    ]);
  });

  it("goes no further than a redirect to plain http, loopback or past three hops", async () => {
    for (const to of ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9001/runtime"]) {
      const { fetchImpl, seen } = web({ "https://a.test/keys": { to } });
      await expect(getFollowingSafeRedirects("https://a.test/keys", {}, fetchImpl)).rejects.toBeInstanceOf(
        EndpointRefusedError,
      );
      expect(seen.map((s) => s.url)).toEqual(["https://a.test/keys"]);
    }
    const loop = web({ "https://a.test/loop": { to: "https://a.test/loop" } });
    await expect(getFollowingSafeRedirects("https://a.test/loop", {}, loop.fetchImpl)).rejects.toBeInstanceOf(
      EndpointRefusedError,
    );
    expect(loop.seen).toHaveLength(4);
  });

  it("does not fetch an LMS's keys through a redirect to an internal address", async () => {
    const { fetchImpl, seen } = web({ "https://lms.test/jwks": { to: "http://10.0.0.5/keys" } });
    const keys = new PlatformJwksCache({ fetch: fetchImpl });
    await expect(keys.keyFor("https://lms.test/jwks", "k1")).rejects.toBeInstanceOf(
      PlatformJwksUnavailableError,
    );
    expect(seen.map((s) => s.url)).toEqual(["https://lms.test/jwks"]);
  });

  it("does not read a registration's configuration through a redirect to an internal address", async () => {
    const { fetchImpl, seen } = web({
      "https://lms.test/openid-configuration": {
        to: "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",
      },
    });
    await expect(
      registerWithPlatform(
        { openidConfiguration: "https://lms.test/openid-configuration", registrationToken: "t" },
        TOOL_URLS,
        "HLTA preparation",
        fetchImpl,
      ),
    ).rejects.toBeInstanceOf(RegistrationConfigUnreachableError);
    expect(seen.map((s) => s.url)).toEqual(["https://lms.test/openid-configuration"]);
  });
});
