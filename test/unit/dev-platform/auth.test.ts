import { beforeAll, describe, expect, it } from "vitest";
import type { DevPlatform } from "../../../dev/platform/index.js";
import { authParams, field, newPlatform, onlyForm, PLATFORM_URL, requestAuth, TOOL } from "./fixtures.js";

let platform: DevPlatform;
beforeAll(async () => {
  platform = await newPlatform();
});

/** The auth endpoint's answer, read as the browser would read it: the form it auto-posts. */
async function authorize(params: Record<string, string>, method: "GET" | "POST" = "GET") {
  const res = await requestAuth(platform, params, method);
  const html = await res.text();
  return { status: res.status, html, form: res.status === 200 ? onlyForm(html, PLATFORM_URL) : undefined };
}

describe("/mod/lti/auth.php: success", () => {
  it.each(["GET", "POST"] as const)(
    "form-posts id_token and state to the redirect_uri (%s)",
    async (method) => {
      const { status, form, html } = await authorize(authParams(platform), method);
      expect(status).toBe(200);
      expect(form?.method).toBe("post");
      expect(form?.action).toBe(TOOL.redirectUris[0]);
      expect(form?.fields.map(([name]) => name)).toEqual(["id_token", "state"]);
      expect(form && field(form, "state")).toBe("state-123");
      expect(html).toContain("document.ltiAuthForm.submit()");
    },
  );
});

describe("/mod/lti/auth.php: failures posted back to the tool (OIDC Core §3.1.2.6)", () => {
  const cases: [string, (p: Record<string, string>) => void, string][] = [
    [
      "wrong client_id",
      (p) => {
        p.client_id = "someone-else";
      },
      "unauthorized_client",
    ],
    [
      "missing nonce",
      (p) => {
        delete p.nonce;
      },
      "invalid_request",
    ],
    [
      "missing login_hint",
      (p) => {
        delete p.login_hint;
      },
      "invalid_request",
    ],
    [
      "scope other than openid",
      (p) => {
        p.scope = "profile";
      },
      "invalid_scope",
    ],
    [
      "response_type other than id_token",
      (p) => {
        p.response_type = "code";
      },
      "unsupported_response_type",
    ],
    [
      "response_mode other than form_post",
      (p) => {
        p.response_mode = "query";
      },
      "invalid_request",
    ],
    [
      "missing response_mode",
      (p) => {
        delete p.response_mode;
      },
      "invalid_request",
    ],
    [
      "prompt other than none",
      (p) => {
        p.prompt = "login";
      },
      "invalid_request",
    ],
    [
      "login_hint of another user",
      (p) => {
        p.login_hint = "5";
      },
      "access_denied",
    ],
    [
      "tampered lti_message_hint",
      (p) => {
        const [body = "", mac = ""] = (p.lti_message_hint ?? "").split(".");
        const launch = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
        const forged = Buffer.from(JSON.stringify({ ...launch, user: "3" })).toString("base64url");
        p.lti_message_hint = `${forged}.${mac}`;
        p.login_hint = "3";
      },
      "invalid_request",
    ],
    [
      "garbage lti_message_hint",
      (p) => {
        p.lti_message_hint = "not-a-hint";
      },
      "invalid_request",
    ],
  ];

  it.each(cases)("%s → error %s, with the state", async (_name, mutate, error) => {
    const params = authParams(platform);
    mutate(params);
    const { status, form } = await authorize(params);
    expect(status).toBe(200);
    expect(form?.action).toBe(TOOL.redirectUris[0]);
    expect(form && field(form, "error")).toBe(error);
    expect(form && field(form, "error_description")).toBeTruthy();
    expect(form && field(form, "state")).toBe("state-123");
    expect(form && field(form, "id_token")).toBeUndefined();
  });

  it("refuses a replayed lti_message_hint: each launch authenticates once, as in Moodle", async () => {
    const params = authParams(platform);
    const first = await authorize(params);
    expect(first.form && field(first.form, "id_token")).toBeDefined();
    const again = await authorize({ ...params, nonce: "another" });
    expect(again.form && field(again.form, "error")).toBe("invalid_request");
    expect(again.form && field(again.form, "error_description")).toContain("already used");
  });

  it("refuses an expired lti_message_hint", async () => {
    let now = Date.now();
    const p = await newPlatform({ now: () => now });
    const params = authParams(p);
    now += 11 * 60_000;
    const res = await requestAuth(p, params);
    const form = onlyForm(await res.text(), PLATFORM_URL);
    expect(field(form, "error")).toBe("invalid_request");
    expect(field(form, "error_description")).toContain("expired");
  });

  it("omits state from the error post when the tool sent none", async () => {
    const params = authParams(platform);
    delete params.state;
    params.client_id = "wrong";
    const { form } = await authorize(params);
    expect(form?.fields.map(([name]) => name)).toEqual(["error", "error_description"]);
  });
});

describe("/mod/lti/auth.php: an untrusted redirect_uri gets an error page, never a post (RFC 6749 §4.1.2.1)", () => {
  it.each([
    ["unregistered", `${TOOL.redirectUris[0]}/evil`],
    ["different only by a trailing slash", `${TOOL.redirectUris[0]}/`],
    ["another host", "http://attacker.test/lti/launch"],
  ])("%s redirect_uri", async (_name, redirectUri) => {
    const { status, html } = await authorize({ ...authParams(platform), redirect_uri: redirectUri });
    expect(status).toBe(400);
    expect(html).not.toContain("<form");
    expect(html).toContain("not one of its registered redirect URIs");
  });

  it("missing redirect_uri", async () => {
    const params = authParams(platform);
    delete params.redirect_uri;
    const { status, html } = await authorize(params);
    expect(status).toBe(400);
    expect(html).not.toContain("<form");
  });
});
