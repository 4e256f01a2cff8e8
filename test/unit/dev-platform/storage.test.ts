import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { DevPlatform } from "../../../dev/platform/index.js";
import { platformStorageScript, registrationDialogScript } from "../../../dev/platform/postmessage.js";
import { authParams, field, newPlatform, onlyForm, PLATFORM_URL, requestAuth, TOOL_URL } from "./fixtures.js";

async function page(platform: DevPlatform, path: string) {
  const res = await platform.app.request(`${PLATFORM_URL}${path}`);
  return { status: res.status, html: await res.text() };
}

/** The inline scripts of a page. */
function scripts(html: string): string[] {
  return [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
}

interface Reply {
  message: Record<string, unknown>;
  targetOrigin: string;
}

/** Runs a page script against a fake window; `post` delivers a message as the tool's frame would. */
function fakeWindow(script: string) {
  const listeners: ((event: unknown) => void)[] = [];
  const window = { addEventListener: (_type: string, fn: (event: unknown) => void) => listeners.push(fn) };
  runInNewContext(script, { window, Map });
  return (data: unknown, origin = TOOL_URL): Reply[] => {
    const replies: Reply[] = [];
    const source = {
      postMessage: (message: Record<string, unknown>, targetOrigin: string) =>
        replies.push({ message, targetOrigin }),
    };
    for (const listener of listeners) listener({ data, origin, source });
    return replies;
  };
}

describe("a Moodle-like platform (no Platform Storage, the default)", () => {
  it("sends no lti_storage_target and serves no storage script or frame", async () => {
    const platform = await newPlatform();
    const login = platform.loginInitiation({ course: "2", user: "candidate" });
    expect(login.fields.map((f) => f.name)).not.toContain("lti_storage_target");
    expect(scripts((await page(platform, "/course/view.php?id=2&user=candidate")).html)).toEqual([]);
    expect((await page(platform, "/mod/lti/post_message_forwarding.php")).status).toBe(404);
  });
});

describe("a Canvas-like platform (Platform Storage through the post_message_forwarding frame)", () => {
  it("names the storage target in the login initiation and the launch, for framed launches only", async () => {
    const platform = await newPlatform({ platformStorage: true });
    const login = platform.loginInitiation({ course: "2", user: "candidate" });
    expect(login.fields.at(-1)).toEqual({ name: "lti_storage_target", value: "post_message_forwarding" });
    const windowed = platform.loginInitiation({ course: "2", user: "candidate", target: "window" });
    expect(windowed.fields.map((f) => f.name)).not.toContain("lti_storage_target");

    const res = await requestAuth(platform, authParams(platform));
    const form = onlyForm(await res.text(), PLATFORM_URL);
    expect(form.fields.map(([name]) => name)).toEqual(["id_token", "state", "lti_storage_target"]);
    expect(field(form, "lti_storage_target")).toBe("post_message_forwarding");
  });

  it("puts the named frame beside the tool's frame on the course page", async () => {
    const platform = await newPlatform({ platformStorage: true });
    const { html } = await page(platform, "/course/view.php?id=2&user=candidate");
    expect(html).toMatch(
      /<iframe id="post_message_forwarding" name="post_message_forwarding" title="Platform storage" src="http:\/\/localhost:8790\/mod\/lti\/post_message_forwarding\.php"/,
    );
    expect(html).toContain('id="contentframe"');
    const frame = await page(platform, "/mod/lti/post_message_forwarding.php");
    expect(frame.status).toBe(200);
    expect(scripts(frame.html)).toHaveLength(1);
  });

  describe("the frame's script", () => {
    async function frame() {
      const platform = await newPlatform({ platformStorage: true });
      const [script = ""] = scripts((await page(platform, "/mod/lti/post_message_forwarding.php")).html);
      return fakeWindow(script);
    }

    it("answers lti.capabilities, naming the frame for storage, to the tool's origin only", async () => {
      const post = await frame();
      expect(post({ subject: "lti.capabilities", message_id: "m1" })).toEqual([
        {
          message: {
            subject: "lti.capabilities.response",
            message_id: "m1",
            supported_messages: [
              { subject: "lti.capabilities" },
              { subject: "lti.put_data", frame: "post_message_forwarding" },
              { subject: "lti.get_data", frame: "post_message_forwarding" },
            ],
          },
          targetOrigin: TOOL_URL,
        },
      ]);
    });

    it("stores with lti.put_data and answers lti.get_data", async () => {
      const post = await frame();
      expect(
        post({ subject: "lti.put_data", message_id: "p", key: "state", value: "abc" })[0]?.message,
      ).toEqual({
        subject: "lti.put_data.response",
        message_id: "p",
        key: "state",
        value: "abc",
      });
      expect(post({ subject: "lti.get_data", message_id: "g", key: "state" })[0]?.message).toEqual({
        subject: "lti.get_data.response",
        message_id: "g",
        key: "state",
        value: "abc",
      });
      expect(
        post({ subject: "lti.get_data", message_id: "g2", key: "missing" })[0]?.message.value,
      ).toBeNull();
      post({ subject: "lti.put_data", message_id: "d", key: "state", value: null });
      expect(post({ subject: "lti.get_data", message_id: "g3", key: "state" })[0]?.message.value).toBeNull();
    });

    it("answers the older org.imsglobal.lti.* subjects in kind", async () => {
      const post = await frame();
      post({ subject: "org.imsglobal.lti.put_data", message_id: "p", key: "k", value: "v" });
      expect(
        post({ subject: "org.imsglobal.lti.get_data", message_id: "g", key: "k" })[0]?.message,
      ).toMatchObject({
        subject: "org.imsglobal.lti.get_data.response",
        value: "v",
      });
    });

    it.each([
      ["no message_id", { subject: "lti.get_data", key: "k" }, "bad_request"],
      ["no key", { subject: "lti.put_data", message_id: "m", value: "v" }, "bad_request"],
      [
        "a value that is not a string",
        { subject: "lti.put_data", message_id: "m", key: "k", value: 42 },
        "bad_request",
      ],
      ["an unknown lti subject", { subject: "lti.launch_fireworks", message_id: "m" }, "unsupported_subject"],
    ])("answers %s with an error", async (_name, data, code) => {
      const post = await frame();
      const [reply] = post(data);
      expect(reply?.message).toMatchObject({
        subject: `${data.subject}.response`,
        error: { code, message: expect.any(String) },
      });
    });

    it("refuses an origin that is not a registered tool, and ignores what is not an LTI request", async () => {
      const post = await frame();
      const [reply] = post({ subject: "lti.get_data", message_id: "m", key: "k" }, "https://evil.test");
      expect(reply).toMatchObject({
        targetOrigin: "https://evil.test",
        message: { error: { code: "wrong_origin" } },
      });
      expect(reply?.message.value).toBeUndefined();
      expect(post("hello")).toEqual([]);
      expect(post({ subject: "lti.get_data.response", message_id: "m" })).toEqual([]);
      expect(post({ subject: "resize", height: 10 })).toEqual([]);
    });
  });

  it("keeps each tool origin's data apart", () => {
    const other = "http://127.0.0.1:9100";
    const post = fakeWindow(
      platformStorageScript({ frame: "f", storesData: true, origins: [TOOL_URL, other] }),
    );
    post({ subject: "lti.put_data", message_id: "1", key: "k", value: "mine" });
    expect(post({ subject: "lti.get_data", message_id: "2", key: "k" }, other)[0]?.message.value).toBeNull();
    expect(post({ subject: "lti.get_data", message_id: "3", key: "k" })[0]?.message.value).toBe("mine");
  });

  it("sends storage requests that reach the course page itself on to the frame", async () => {
    const platform = await newPlatform({ platformStorage: true });
    const [script = ""] = scripts((await page(platform, "/course/view.php?id=2&user=candidate")).html);
    const post = fakeWindow(script);
    expect(
      post({ subject: "lti.capabilities", message_id: "c" })[0]?.message.supported_messages,
    ).toContainEqual({
      subject: "lti.put_data",
      frame: "post_message_forwarding",
    });
    expect(
      post({ subject: "lti.put_data", message_id: "p", key: "k", value: "v" })[0]?.message,
    ).toMatchObject({
      error: { code: "unsupported_subject", message: expect.stringContaining("post_message_forwarding") },
    });
  });
});

describe("Platform Storage in the parent page (lti_storage_target=_parent)", () => {
  it("answers from the course page, with no named frame", async () => {
    const platform = await newPlatform({ platformStorage: { target: "_parent" } });
    expect(platform.loginInitiation({ course: "2", user: "candidate" }).fields.at(-1)).toEqual({
      name: "lti_storage_target",
      value: "_parent",
    });
    const { html } = await page(platform, "/course/view.php?id=2&user=candidate");
    expect(html).not.toContain("post_message_forwarding");
    expect((await page(platform, "/mod/lti/post_message_forwarding.php")).status).toBe(404);
    const post = fakeWindow(scripts(html)[0] ?? "");
    expect(post({ subject: "lti.capabilities", message_id: "c" })[0]?.message.supported_messages).toEqual([
      { subject: "lti.capabilities" },
      { subject: "lti.put_data" },
      { subject: "lti.get_data" },
    ]);
    post({ subject: "lti.put_data", message_id: "p", key: "k", value: "v" });
    expect(post({ subject: "lti.get_data", message_id: "g", key: "k" })[0]?.message.value).toBe("v");
  });

  it("also frames deep-linking requests with storage", async () => {
    const platform = await newPlatform({ platformStorage: { target: "_parent" } });
    const { html } = await page(platform, "/course/modedit.php?add=lti&course=2&typeid=1&user=tutor");
    expect(scripts(html)).toHaveLength(1);
  });
});

describe("the registration dialog (org.imsglobal.lti.close)", () => {
  function dialog() {
    const listeners: Record<string, ((event: unknown) => void)[]> = {};
    const on = (name: string) => (type: string, fn: (event: unknown) => void) => {
      listeners[`${name}:${type}`] = [...(listeners[`${name}:${type}`] ?? []), fn];
    };
    const frameWindow = {};
    const state = { open: false, reloads: 0 };
    const elements: Record<string, unknown> = {
      f: { addEventListener: on("form") },
      d: {
        addEventListener: on("dialog"),
        showModal: () => {
          state.open = true;
        },
        close: () => {
          state.open = false;
          for (const fn of listeners["dialog:close"] ?? []) fn({});
        },
      },
      i: { contentWindow: frameWindow, src: "" },
    };
    runInNewContext(registrationDialogScript({ form: "f", dialog: "d", frame: "i" }), {
      document: { getElementById: (id: string) => elements[id] },
      window: { addEventListener: on("window") },
      location: {
        reload: () => {
          state.reloads++;
        },
      },
    });
    const fire = (key: string, event: unknown) => {
      for (const fn of listeners[key] ?? []) fn(event);
    };
    return { state, fire, frameWindow };
  }

  it("opens on submit, closes and refreshes the tool list when the tool's frame says close", () => {
    const { state, fire, frameWindow } = dialog();
    fire("form:submit", {});
    expect(state.open).toBe(true);
    fire("window:message", { data: { subject: "org.imsglobal.lti.close" }, source: {} });
    expect(state.open).toBe(true);
    fire("window:message", { data: { subject: "something.else" }, source: frameWindow });
    expect(state.open).toBe(true);
    fire("window:message", { data: { subject: "org.imsglobal.lti.close" }, source: frameWindow });
    expect(state).toEqual({ open: false, reloads: 1 });
  });

  it("takes lti.close too", () => {
    const { state, fire, frameWindow } = dialog();
    fire("form:submit", {});
    fire("window:message", { data: { subject: "lti.close" }, source: frameWindow });
    expect(state.open).toBe(false);
  });
});
