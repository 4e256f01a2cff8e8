import { type Context, Hono } from "hono";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../domain/errors.js";
import { formFields, singleFormFields } from "../../../functions/web/http.js";

/** Posts `body` with `type` to a one-route app and returns what `read` made of it. */
async function read<T>(
  body: string | FormData,
  type: string | undefined,
  readForm: (c: Context) => Promise<T>,
): Promise<{ fields?: T; error?: unknown }> {
  const app = new Hono();
  let outcome: { fields?: T; error?: unknown } = {};
  app.post("/", async (c) => {
    try {
      outcome = { fields: await readForm(c) };
    } catch (error) {
      outcome = { error };
    }
    return c.text("ok");
  });
  const headers: Record<string, string> = type ? { "content-type": type } : {};
  await app.request("/", { method: "POST", body, headers });
  return outcome;
}

/** What hono's own parser makes of the same form (the reading formFields replaced for urlencoded). */
async function honoParse(body: string): Promise<Record<string, unknown>> {
  const { fields } = await read(body, "application/x-www-form-urlencoded", (c) =>
    c.req.parseBody({ all: true }),
  );
  return { ...(fields as Record<string, unknown>) };
}

const URLENCODED = "application/x-www-form-urlencoded";

describe("formFields", () => {
  const bodies = [
    "id_token=eyJ.a.b&state=s%2B1%3D",
    "a=1&a=2&b=3&a=4",
    "list%5B%5D=x&one%5B%5D=y&list%5B%5D=z",
    "name=Sam+Jones&note=50%25+%26+more&empty=&flag",
    "caf%C3%A9=cr%C3%A8me&bad=%ZZ%&emoji=%F0%9F%98%80",
    "",
  ];

  for (const body of bodies) {
    it(`reads a urlencoded form as hono's parser does: ${JSON.stringify(body)}`, async () => {
      const { fields } = await read(body, URLENCODED, formFields);
      expect(fields).toEqual(await honoParse(body));
    });
  }

  it("reads the values a launch needs", async () => {
    const { fields } = await read(
      "id_token=eyJ.a.b&state=s%2B1%3D&a=1&a=2",
      `${URLENCODED}; charset=UTF-8`,
      formFields,
    );
    expect(fields).toEqual({ id_token: "eyJ.a.b", state: "s+1=", a: ["1", "2"] });
    const single = await read("a=1&a=2&b=x+y", URLENCODED, singleFormFields);
    expect(single.fields).toEqual({ a: "1", b: "x y" });
  });

  it("reads a form whose media type is written in capitals (media types are case-insensitive)", async () => {
    const { fields } = await read(
      "s=1&a=x+y",
      "Application/X-WWW-Form-URLEncoded; Charset=UTF-8",
      formFields,
    );
    expect(fields).toEqual({ s: "1", a: "x y" });
  });

  it("ignores a field named __proto__ instead of replacing the result's prototype", async () => {
    const { fields } = await read("__proto__=x&__proto__=y&s=1", URLENCODED, formFields);
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(fields).toEqual({ s: "1" });
  });

  it("still reads multipart forms", async () => {
    const form = new FormData();
    form.append("s", "token");
    form.append("k", "1");
    form.append("k", "2");
    const { fields } = await read(form, undefined, formFields);
    expect(fields).toEqual({ s: "token", k: ["1", "2"] });
  });

  it("refuses a body that is not a form, and a multipart body without its boundary", async () => {
    const json = await read('{"a":1}', "application/json", formFields);
    expect(json.error).toBeInstanceOf(ValidationError);
    const cut = await read("--x\r\n", "multipart/form-data", formFields);
    expect(cut.error).toBeInstanceOf(ValidationError);
  });
});
