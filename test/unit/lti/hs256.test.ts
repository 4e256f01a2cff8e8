import { createHmac } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { Hs256Error, MAX_TOKEN_LENGTH, signHs256, verifyHs256 } from "../../../lti-tool/hs256.js";

const secret = new Uint8Array(32).fill(5);
const now = 1_800_000_000;
const expect_ = { issuer: "hlta-tool", audience: "hlta-session", nowSeconds: now };
const claims = (extra: Record<string, unknown> = {}) => ({
  sub: "u1",
  name: "Zoë Ó Briain",
  iss: "hlta-tool",
  aud: "hlta-session",
  iat: now,
  exp: now + 60,
  ...extra,
});
const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
const reason = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof Hs256Error) return error.reason;
    throw error;
  }
  return "accepted";
};

describe("HS256 tokens on node:crypto, checked against jose", () => {
  it("signs byte for byte what jose signs, and each verifies the other's tokens", async () => {
    const ours = signHs256(claims(), secret);
    const jose = await new SignJWT({ sub: "u1", name: "Zoë Ó Briain" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("hlta-tool")
      .setAudience("hlta-session")
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(secret);
    expect(ours).toBe(jose);
    const { payload } = await jwtVerify(ours, secret, {
      algorithms: ["HS256"],
      issuer: "hlta-tool",
      audience: "hlta-session",
      currentDate: new Date(now * 1000),
    });
    expect(payload.name).toBe("Zoë Ó Briain");
    expect(verifyHs256(jose, secret, expect_)).toMatchObject({ sub: "u1", name: "Zoë Ó Briain" });
  });

  it("refuses a token signed with another secret, or altered anywhere", () => {
    const token = signHs256(claims(), secret);
    expect(reason(() => verifyHs256(token, new Uint8Array(32).fill(6), expect_))).toBe("signature");
    const [h, , s] = token.split(".");
    const altered = `${h}.${enc(claims({ sub: "admin" }))}.${s}`;
    expect(reason(() => verifyHs256(altered, secret, expect_))).toBe("signature");
  });

  it("refuses the right MAC written with its last character's spare bits set (not the canonical encoding)", () => {
    const token = signHs256(claims(), secret);
    const [h, p, s = ""] = token.split(".");
    // 32 bytes take 43 base64url characters; the last one carries 4 bits and 2 spare zero bits.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const spare = `${s.slice(0, -1)}${alphabet[alphabet.indexOf(s.at(-1) ?? "") + 1]}`;
    expect(spare).not.toBe(s);
    expect(Buffer.from(spare, "base64url")).toEqual(Buffer.from(s, "base64url"));
    expect(reason(() => verifyHs256(`${h}.${p}.${spare}`, secret, expect_))).toBe("signature");
  });

  it("refuses alg none, other algorithms and critical extensions, even with a valid MAC", () => {
    const signWithHeader = (header: Record<string, unknown>) => {
      const input = `${enc(header)}.${enc(claims())}`;
      return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
    };
    expect(reason(() => verifyHs256(signWithHeader({ alg: "HS512" }), secret, expect_))).toBe("malformed");
    expect(reason(() => verifyHs256(signWithHeader({ alg: "HS256", crit: ["x"] }), secret, expect_))).toBe(
      "malformed",
    );
    expect(reason(() => verifyHs256(`${enc({ alg: "none" })}.${enc(claims())}.`, secret, expect_))).toBe(
      "malformed",
    );
  });

  it("checks exp (required), nbf, iss and aud", () => {
    expect(reason(() => verifyHs256(signHs256(claims({ exp: now }), secret), secret, expect_))).toBe(
      "expired",
    );
    expect(reason(() => verifyHs256(signHs256(claims({ exp: undefined }), secret), secret, expect_))).toBe(
      "claims",
    );
    expect(reason(() => verifyHs256(signHs256(claims({ nbf: now + 10 }), secret), secret, expect_))).toBe(
      "claims",
    );
    expect(reason(() => verifyHs256(signHs256(claims({ iss: "other" }), secret), secret, expect_))).toBe(
      "claims",
    );
    expect(reason(() => verifyHs256(signHs256(claims({ aud: "other" }), secret), secret, expect_))).toBe(
      "claims",
    );
    expect(verifyHs256(signHs256(claims({ aud: ["x", "hlta-session"] }), secret), secret, expect_).sub).toBe(
      "u1",
    );
  });

  it("refuses a token whose iat is there but not a number, and accepts one without iat", () => {
    for (const iat of [String(now), null, { at: now }]) {
      expect(
        reason(() => verifyHs256(signHs256(claims({ iat }), secret), secret, expect_)),
        String(iat),
      ).toBe("claims");
    }
    const { iat: _iat, ...withoutIat } = claims();
    expect(verifyHs256(signHs256(withoutIat, secret), secret, expect_).sub).toBe("u1");
  });

  it("refuses what is not a compact JWS", () => {
    for (const bad of ["", "a.b", "a.b.c.d", "a.b!.c", "x".repeat(20_000)]) {
      expect(reason(() => verifyHs256(bad, secret, expect_))).toBe("malformed");
    }
  });

  it("refuses a correctly signed token longer than the longest it issues, and takes one just within", () => {
    const signedWith = (padding: number) => signHs256(claims({ padding: "x".repeat(padding) }), secret);
    let padding = 0;
    while (signedWith(padding + 1).length <= MAX_TOKEN_LENGTH) padding++;
    const within = signedWith(padding);
    const over = signedWith(padding + 1);
    expect(within.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    expect(over.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    expect(verifyHs256(within, secret, expect_).sub).toBe("u1");
    expect(reason(() => verifyHs256(over, secret, expect_))).toBe("malformed");
  });
});
