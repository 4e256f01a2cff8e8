import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { courseScopeKey } from "../../../domain/tenancy.js";
import { CLAIM } from "../../../lti-tool/claims.js";
import { sha256b64url } from "../../../lti-tool/crypto.js";
import {
  AmbiguousClientError,
  AnonymousLaunchError,
  AudienceMismatchError,
  AuthorizedPartyMismatchError,
  DeploymentMismatchError,
  InvalidClaimsError,
  InvalidIssuedAtError,
  InvalidLoginRequestError,
  InvalidSignatureError,
  IssuerMismatchError,
  MalformedTokenError,
  MissingKidError,
  NonceMismatchError,
  NonceReplayedError,
  StateNotBoundError,
  StateReplayedError,
  TargetLinkNotToolError,
  TokenExpiredError,
  TokenNotYetValidError,
  UnknownKidError,
  UnknownMessageTypeError,
  UnknownStateError,
  UnregisteredDeploymentError,
  UnregisteredPlatformError,
  UnsupportedAlgorithmError,
  UnsupportedVersionError,
} from "../../../lti-tool/errors.js";
import { validateLaunch } from "../../../lti-tool/launch.js";
import { MemoryLoginStateStore } from "../../support/memory-stores.js";
import {
  CLIENT_ID,
  ISSUER,
  newSigningKey,
  sign,
  testPlatform,
  unsignedJwt,
  validClaims,
} from "../../support/test-platform.js";

type Platform = Awaited<ReturnType<typeof testPlatform>>;

type Login = Awaited<ReturnType<Platform["login"]>>;

/** The nonce a login sent in its auth request, which the platform's id_token must carry. */
const nonceOf = (login: Login) => new URL(login.authRedirectUrl).searchParams.get("nonce") ?? "";

/**
 * What the browser posts back after `login`: the platform's id_token for it (claims changed by
 * `edit`), the state, and the secret of the login's cookie.
 */
async function launchInput(
  p: Platform,
  login: Login,
  edit: (claims: Record<string, unknown>) => void = () => {},
) {
  const claims = validClaims(nonceOf(login));
  edit(claims);
  return {
    idToken: await sign(claims, p.signingKey),
    state: login.state,
    browserSecret: login.browserSecret,
    secretVia: "cookie" as const,
  };
}

/** Log in, then launch with claims changed by `edit` and signed as `signWith` decides. */
async function launchWith(
  p: Platform,
  edit: (claims: Record<string, unknown>) => void = () => {},
  signWith?: (claims: Record<string, unknown>) => Promise<string> | string,
) {
  const login = await p.login();
  const claims = validClaims(nonceOf(login));
  edit(claims);
  const idToken = signWith ? await signWith(claims) : await sign(claims, p.signingKey);
  return validateLaunch(
    { idToken, state: login.state, browserSecret: login.browserSecret, secretVia: "cookie" as const },
    p.deps(),
  );
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the launch to be refused, but it was accepted");
}

describe("launch validation: a valid launch", () => {
  it("accepts a resource link launch and maps the tenant, course and role", async () => {
    const p = await testPlatform();
    const launch = await launchWith(p);
    expect(launch.messageType).toBe("LtiResourceLinkRequest");
    expect(launch.tenant).toEqual({ issuer: ISSUER, clientId: "client-abc", deploymentId: "1" });
    expect(launch.course.contextId).toBe("course-1");
    expect(launch.user).toMatchObject({ sub: "user-1", role: "candidate", locale: "en" });
  });

  it("keeps a context-less launch's records apart from every course, whatever the LMS names its courses", async () => {
    const p = await testPlatform();
    const contextless = await launchWith(p, (c) => {
      delete c[CLAIM.context];
    });
    const resourceLink = (validClaims("n")[CLAIM.resourceLink] as { id: string }).id;
    expect(contextless.course.contextId).toBe(`link:${resourceLink}`);
    const keys = new Set([courseScopeKey(contextless.course)]);
    for (const id of [
      `link:${resourceLink}`,
      `ctx:link:${resourceLink}`,
      `ctx:ctx:link:${resourceLink}`,
      "course-1",
    ]) {
      const launch = await launchWith(p, (c) => {
        c[CLAIM.context] = { id, title: "HLTA" };
      });
      keys.add(courseScopeKey(launch.course));
    }
    expect(keys.size).toBe(5);
  });

  it("accepts several audiences when azp names this tool", async () => {
    const p = await testPlatform();
    const launch = await launchWith(p, (c) => {
      c.aud = ["other-tool", "client-abc"];
      c.azp = "client-abc";
    });
    expect(launch.user.sub).toBe("user-1");
  });

  it("accepts a launch with an empty roles list and gives no role", async () => {
    const p = await testPlatform();
    const launch = await launchWith(p, (c) => {
      c[CLAIM.roles] = [];
    });
    expect(launch.user.role).toBeUndefined();
  });

  it("fetches the platform JWKS once for many launches", async () => {
    const p = await testPlatform();
    await launchWith(p);
    await launchWith(p);
    await launchWith(p);
    expect(p.jwksFetches).toBe(1);
  });
});

describe("launch validation: the certification's known-bad payloads", () => {
  it("refuses a token with no kid", async () => {
    const p = await testPlatform();
    const error = await rejection(
      launchWith(p, undefined, async (claims) => {
        const { SignJWT } = await import("jose");
        return new SignJWT(claims).setProtectedHeader({ alg: "RS256" }).sign(p.signingKey.privateKey);
      }),
    );
    expect(error).toBeInstanceOf(MissingKidError);
  });

  it("refuses a token whose kid the platform does not publish, after one re-fetch", async () => {
    const p = await testPlatform();
    const stranger = await newSigningKey("not-published");
    const error = await rejection(launchWith(p, undefined, (c) => sign(c, stranger)));
    expect(error).toBeInstanceOf(UnknownKidError);
    expect(p.jwksFetches).toBe(2);
  });

  it("refuses a token signed by another key under a published kid", async () => {
    const p = await testPlatform();
    const impostor = await newSigningKey(p.signingKey.kid);
    const error = await rejection(launchWith(p, undefined, (c) => sign(c, impostor)));
    expect(error).toBeInstanceOf(InvalidSignatureError);
  });

  it.each([
    ["a wrong LTI version", "1.1.0"],
    ["a missing LTI version", undefined],
  ])("refuses %s", async (_label, version) => {
    const p = await testPlatform();
    const error = await rejection(
      launchWith(p, (c) => {
        if (version === undefined) delete c[CLAIM.version];
        else c[CLAIM.version] = version;
      }),
    );
    expect(error).toBeInstanceOf(UnsupportedVersionError);
  });

  it("refuses an invalid message (not a JWT)", async () => {
    const p = await testPlatform();
    const error = await rejection(launchWith(p, undefined, () => "this.is-not.a-jwt"));
    expect(error).toBeInstanceOf(MalformedTokenError);
  });

  it("refuses a token whose payload is not a JSON object", async () => {
    const p = await testPlatform();
    const error = await rejection(
      launchWith(p, undefined, async () => {
        const { CompactSign } = await import("jose");
        return new CompactSign(new TextEncoder().encode("[1,2,3]"))
          .setProtectedHeader({ alg: "RS256", kid: p.signingKey.kid })
          .sign(p.signingKey.privateKey);
      }),
    );
    expect(error).toBeInstanceOf(MalformedTokenError);
  });

  it("refuses a missing message_type", async () => {
    const p = await testPlatform();
    const error = await rejection(launchWith(p, (c) => delete c[CLAIM.messageType]));
    expect(error).toBeInstanceOf(UnknownMessageTypeError);
  });

  it("refuses an unknown message_type", async () => {
    const p = await testPlatform();
    const error = await rejection(launchWith(p, (c) => (c[CLAIM.messageType] = "LtiSomethingElse")));
    expect(error).toBeInstanceOf(UnknownMessageTypeError);
  });

  it.each([
    ["roles", (c: Record<string, unknown>) => delete c[CLAIM.roles], CLAIM.roles],
    ["deployment_id", (c: Record<string, unknown>) => delete c[CLAIM.deploymentId], CLAIM.deploymentId],
    [
      "resource_link.id",
      (c: Record<string, unknown>) => (c[CLAIM.resourceLink] = { title: "no id" }),
      `${CLAIM.resourceLink}.id`,
    ],
    ["target_link_uri", (c: Record<string, unknown>) => delete c[CLAIM.targetLinkUri], CLAIM.targetLinkUri],
  ])("refuses a launch missing %s and names the claim", async (_label, edit, path) => {
    const p = await testPlatform();
    const error = await rejection(launchWith(p, edit));
    expect(error).toBeInstanceOf(InvalidClaimsError);
    expect((error as InvalidClaimsError).issues.map((i) => i.path)).toContain(path);
  });

  it("refuses a launch missing sub as anonymous (the tool keeps each candidate's own work), not as a broken LMS", async () => {
    const p = await testPlatform();
    expect(await rejection(launchWith(p, (c) => delete c.sub))).toBeInstanceOf(AnonymousLaunchError);
    const blank = await rejection(launchWith(p, (c) => (c.sub = "")));
    expect(blank).toBeInstanceOf(InvalidClaimsError);
    expect((blank as InvalidClaimsError).issues.map((i) => i.path)).toContain("sub");
  });

  it("refuses a token whose nbf is still ahead (RFC 7519 §4.1.5), within the clock allowance", async () => {
    const p = await testPlatform();
    const now = Math.floor(Date.now() / 1000);
    expect(await rejection(launchWith(p, (c) => (c.nbf = now + 3600)))).toBeInstanceOf(TokenNotYetValidError);
    expect(await rejection(launchWith(p, (c) => (c.nbf = "soon")))).toBeInstanceOf(TokenNotYetValidError);
    const ok = await launchWith(p, (c) => (c.nbf = now + 10));
    expect(ok.user.sub).toBe("user-1");
  });

  it.each([
    ["another site", "https://evil.example/app/activity/module-standards"],
    ["a script", "javascript:alert(1)"],
    ["the tool's host on another port", "https://tool.test:8443/app"],
  ])("refuses a launch whose target link is %s, not the tool's", async (_label, target) => {
    const p = await testPlatform();
    const error = await rejection(launchWith(p, (c) => (c[CLAIM.targetLinkUri] = target)));
    expect(error).toBeInstanceOf(TargetLinkNotToolError);
  });

  it("refuses a login whose target link is not the tool's, before anything is sealed", async () => {
    const p = await testPlatform();
    for (const target of ["https://evil.example/phish", "javascript:alert(1)", "http://tool.test/app"]) {
      expect(await rejection(p.login({ target_link_uri: target })), target).toBeInstanceOf(
        TargetLinkNotToolError,
      );
    }
    expect(
      (await p.login({ target_link_uri: "https://tool.test/app/activity/evidence-file" })).state,
    ).toBeTruthy();
  });

  it("refuses an expired token", async () => {
    const p = await testPlatform();
    const error = await rejection(
      launchWith(p, (c) => {
        c.iat = Math.floor(Date.now() / 1000) - 300;
        c.exp = Math.floor(Date.now() / 1000) - 120;
      }),
    );
    expect(error).toBeInstanceOf(TokenExpiredError);
  });

  it("refuses a token issued in the future", async () => {
    const p = await testPlatform();
    const error = await rejection(launchWith(p, (c) => (c.iat = Math.floor(Date.now() / 1000) + 3600)));
    expect(error).toBeInstanceOf(InvalidIssuedAtError);
  });

  it("refuses a token issued longer ago than a launch may take, even while its exp is still ahead", async () => {
    const p = await testPlatform();
    const maxTokenAgeSeconds = 600;
    const deps = { ...p.deps(), maxTokenAgeSeconds };
    const issuedAgo = async (seconds: number) => {
      const now = Math.floor(Date.now() / 1000);
      const input = await launchInput(p, await p.login(), (c) => {
        c.iat = now - seconds;
        c.exp = now + 60;
      });
      return validateLaunch(input, deps);
    };
    expect(await rejection(issuedAgo(maxTokenAgeSeconds + 60))).toBeInstanceOf(InvalidIssuedAtError);
    await expect(issuedAgo(maxTokenAgeSeconds - 60)).resolves.toMatchObject({ user: { sub: "user-1" } });
  });

  it.each([
    ["empty", ""],
    ["longer than 255 characters", "c".repeat(256)],
    ["holding control characters", "course\u0000-1"],
  ])("refuses a launch whose course (context) id is %s, naming the claim", async (_label, id) => {
    const p = await testPlatform();
    const error = await rejection(launchWith(p, (c) => (c[CLAIM.context] = { id, title: "HLTA" })));
    expect(error).toBeInstanceOf(InvalidClaimsError);
    expect((error as InvalidClaimsError).issues.map((i) => i.path)).toContain(`${CLAIM.context}.id`);
  });

  it("refuses a token without exp", async () => {
    const p = await testPlatform();
    const error = await rejection(launchWith(p, (c) => delete c.exp));
    expect(error).toBeInstanceOf(TokenExpiredError);
  });
});

describe("launch validation: state, nonce and binding", () => {
  it("refuses a replayed state", async () => {
    const p = await testPlatform();
    const input = await launchInput(p, await p.login());
    await validateLaunch(input, p.deps());
    expect(await rejection(validateLaunch(input, p.deps()))).toBeInstanceOf(StateReplayedError);
  });

  it("refuses a state that was never issued", async () => {
    const p = await testPlatform();
    const idToken = await sign(validClaims("n"), p.signingKey);
    const error = await rejection(
      validateLaunch(
        { idToken, state: "made-up", browserSecret: "x", secretVia: "cookie" as const },
        p.deps(),
      ),
    );
    expect(error).toBeInstanceOf(UnknownStateError);
  });

  it("refuses a launch from a browser without the login's cookie", async () => {
    const p = await testPlatform();
    const login = await p.login();
    const nonce = nonceOf(login);
    const idToken = await sign(validClaims(nonce), p.signingKey);
    const error = await rejection(
      validateLaunch(
        { idToken, state: login.state, browserSecret: undefined, secretVia: undefined },
        p.deps(),
      ),
    );
    expect(error).toBeInstanceOf(StateNotBoundError);
    const wrong = await rejection(
      validateLaunch(
        { idToken, state: login.state, browserSecret: "other", secretVia: "cookie" as const },
        p.deps(),
      ),
    );
    expect(wrong).toBeInstanceOf(StateNotBoundError);
  });

  it("refuses a state sealed by someone else, and an expired one, as never issued", async () => {
    const p = await testPlatform();
    const login = await p.login();
    const nonce = nonceOf(login);
    const idToken = await sign(validClaims(nonce), p.signingKey);
    const other = new MemoryLoginStateStore(new Uint8Array(32).fill(1));
    const forged = await other.seal({
      nonce,
      issuer: ISSUER,
      clientId: CLIENT_ID,
      targetLinkUri: "https://tool.test/app",
      bindingHash: sha256b64url(login.browserSecret),
      binding: "cookie",
      issuedAt: Math.floor(Date.now() / 1000),
      expiresAt: Math.floor(Date.now() / 1000) + 600,
    });
    const input = {
      idToken,
      state: forged,
      browserSecret: login.browserSecret,
      secretVia: "cookie" as const,
    };
    expect(await rejection(validateLaunch(input, p.deps()))).toBeInstanceOf(UnknownStateError);
    const late = { ...p.deps(), now: () => new Date(Date.now() + 601_000) };
    const expired = {
      idToken,
      state: login.state,
      browserSecret: login.browserSecret,
      secretVia: "cookie" as const,
    };
    expect(await rejection(validateLaunch(expired, late))).toBeInstanceOf(UnknownStateError);
  });

  it("does not spend the state on a launch that fails its checks", async () => {
    const p = await testPlatform();
    const right = await launchInput(p, await p.login());
    const unbound = { ...right, browserSecret: "another-browser" };
    expect(await rejection(validateLaunch(unbound, p.deps()))).toBeInstanceOf(StateNotBoundError);
    const forgedToken = { ...right, idToken: `${right.idToken.slice(0, -4)}AAAA` };
    expect(await rejection(validateLaunch(forgedToken, p.deps()))).toBeInstanceOf(InvalidSignatureError);
    // The right browser with the platform's real token still gets in, once.
    await expect(validateLaunch(right, p.deps())).resolves.toMatchObject({ user: { sub: "user-1" } });
    expect(await rejection(validateLaunch(right, p.deps()))).toBeInstanceOf(StateReplayedError);
  });

  it("refuses a nonce not issued for this state", async () => {
    const p = await testPlatform();
    const error = await rejection(launchWith(p, (c) => (c.nonce = "a-nonce-from-another-login")));
    expect(error).toBeInstanceOf(NonceMismatchError);
  });

  it("refuses a replayed nonce", async () => {
    const p = await testPlatform();
    const login = await p.login();
    const nonce = nonceOf(login);
    // The nonce was used before, under another state (only a forger could make one).
    await p.states.used.claim(ISSUER, nonce, "another-state-id", Number.MAX_SAFE_INTEGER);
    const idToken = await sign(validClaims(nonce), p.signingKey);
    const error = await rejection(
      validateLaunch(
        { idToken, state: login.state, browserSecret: login.browserSecret, secretVia: "cookie" as const },
        p.deps(),
      ),
    );
    expect(error).toBeInstanceOf(NonceReplayedError);
  });
});

describe("launch validation: algorithms, issuer and audience", () => {
  it("refuses alg none", async () => {
    const p = await testPlatform();
    const error = await rejection(
      launchWith(p, undefined, (c) => unsignedJwt({ alg: "none", kid: p.signingKey.kid }, c)),
    );
    expect(error).toBeInstanceOf(UnsupportedAlgorithmError);
  });

  it("refuses HS256 signed with the platform's public key", async () => {
    const p = await testPlatform();
    const error = await rejection(
      launchWith(p, undefined, (c) => {
        const header = { alg: "HS256", kid: p.signingKey.kid };
        const unsigned = unsignedJwt(header, c).slice(0, -1);
        const secret = JSON.stringify(p.signingKey.publicJwk);
        const mac = createHmac("sha256", secret).update(unsigned).digest("base64url");
        return `${unsigned}.${mac}`;
      }),
    );
    expect(error).toBeInstanceOf(UnsupportedAlgorithmError);
  });

  it("refuses a wrong aud", async () => {
    const p = await testPlatform();
    const error = await rejection(launchWith(p, (c) => (c.aud = "another-tool")));
    expect(error).toBeInstanceOf(AudienceMismatchError);
  });

  it("refuses several audiences without a matching azp", async () => {
    const p = await testPlatform();
    const missing = await rejection(launchWith(p, (c) => (c.aud = ["client-abc", "another-tool"])));
    expect(missing).toBeInstanceOf(AuthorizedPartyMismatchError);
    const wrong = await rejection(
      launchWith(p, (c) => {
        c.aud = ["client-abc", "another-tool"];
        c.azp = "another-tool";
      }),
    );
    expect(wrong).toBeInstanceOf(AuthorizedPartyMismatchError);
  });

  it("refuses a token whose azp is not the tool's client id, even with the tool as its only audience", async () => {
    const p = await testPlatform();
    for (const aud of [CLIENT_ID, [CLIENT_ID]]) {
      const error = await rejection(
        launchWith(p, (c) => {
          c.aud = aud;
          c.azp = "another-tool";
        }),
      );
      expect(error).toBeInstanceOf(AuthorizedPartyMismatchError);
    }
  });

  it("refuses several audiences none of which is the tool, even when azp names the tool", async () => {
    const p = await testPlatform();
    const error = await rejection(
      launchWith(p, (c) => {
        c.aud = ["another-tool", "a-third-tool"];
        c.azp = CLIENT_ID;
      }),
    );
    expect(error).toBeInstanceOf(AudienceMismatchError);
  });

  it("refuses a token from another issuer", async () => {
    const p = await testPlatform();
    const error = await rejection(launchWith(p, (c) => (c.iss = "https://evil.test")));
    expect(error).toBeInstanceOf(IssuerMismatchError);
  });

  it("refuses a launch whose deployment is not the one its login named", async () => {
    const p = await testPlatform();
    await p.registrations.addDeployment({
      issuer: ISSUER,
      clientId: CLIENT_ID,
      deploymentId: "2",
      createdAt: "",
    });
    const error = await rejection(launchWith(p, (c) => (c[CLAIM.deploymentId] = "2")));
    expect(error).toBeInstanceOf(DeploymentMismatchError);
    // A login that named no deployment accepts any registered one.
    const login = await p.login({ lti_deployment_id: undefined });
    const input = await launchInput(p, login, (c) => (c[CLAIM.deploymentId] = "2"));
    await expect(validateLaunch(input, p.deps())).resolves.toMatchObject({ tenant: { deploymentId: "2" } });
  });

  it("refuses an unregistered deployment", async () => {
    const p = await testPlatform();
    const error = await rejection(launchWith(p, (c) => (c[CLAIM.deploymentId] = "3")));
    expect(error).toBeInstanceOf(UnregisteredDeploymentError);
    expect((error as UnregisteredDeploymentError).userMessage).toContain("deployment 3");
  });
});

describe("launch validation: platform key rotation", () => {
  it("accepts a token signed with a new kid after exactly one JWKS re-fetch", async () => {
    const p = await testPlatform();
    await launchWith(p); // caches the JWKS with the first key
    const rotated = await newSigningKey("platform-key-2");
    p.publish([rotated]);
    const launch = await launchWith(p, undefined, (c) => sign(c, rotated));
    expect(launch.user.sub).toBe("user-1");
    expect(p.jwksFetches).toBe(2);
  });

  it("does not re-fetch again for another unknown kid within the cooldown", async () => {
    const p = await testPlatform();
    const strangerA = await newSigningKey("stranger-a");
    const strangerB = await newSigningKey("stranger-b");
    await rejection(launchWith(p, undefined, (c) => sign(c, strangerA)));
    await rejection(launchWith(p, undefined, (c) => sign(c, strangerB)));
    expect(p.jwksFetches).toBe(2);
  });
});

describe("launch validation: the single use comes last", () => {
  it("spends nothing when the claims or the deployment fail their checks", async () => {
    const p = await testPlatform();
    // One login; the platform's token for it, and variants of it that fail a check.
    const login = await p.login();
    const otherDeployment = await launchInput(p, login, (c) => (c[CLAIM.deploymentId] = "99"));
    expect(await rejection(validateLaunch(otherDeployment, p.deps()))).toBeInstanceOf(
      UnregisteredDeploymentError,
    );
    const noRoles = await launchInput(p, login, (c) => delete c[CLAIM.roles]);
    expect(await rejection(validateLaunch(noRoles, p.deps()))).toBeInstanceOf(InvalidClaimsError);
    // The state was not spent: the platform's real token still launches, once.
    const right = await launchInput(p, login);
    await expect(validateLaunch(right, p.deps())).resolves.toMatchObject({ user: { sub: "user-1" } });
    expect(await rejection(validateLaunch(right, p.deps()))).toBeInstanceOf(StateReplayedError);
  });
});

describe("login initiation: which registration the login is for", () => {
  const secondRegistration = (p: Platform, clientId: string) =>
    p.registrations.savePlatform(
      {
        issuer: ISSUER,
        clientId,
        authUrl: `${ISSUER}/mod/lti/auth.php`,
        tokenUrl: `${ISSUER}/mod/lti/token.php`,
        jwksUrl: `${ISSUER}/mod/lti/certs.php`,
        createdAt: new Date().toISOString(),
      },
      ["1"],
    );

  it("refuses a login without a client id when its issuer has several registrations, rather than guess", async () => {
    const p = await testPlatform();
    await expect(p.login({ client_id: undefined })).resolves.toMatchObject({
      platform: { clientId: CLIENT_ID },
    });
    await secondRegistration(p, "client-xyz");
    expect(await rejection(p.login({ client_id: undefined }))).toBeInstanceOf(AmbiguousClientError);
  });

  it("uses the registration the login's client id names, and refuses a client id its issuer never registered", async () => {
    const p = await testPlatform();
    expect(await rejection(p.login({ client_id: "client-unknown" }))).toBeInstanceOf(
      UnregisteredPlatformError,
    );
    await secondRegistration(p, "client-xyz");
    const login = await p.login({ client_id: "client-xyz" });
    expect(login.platform.clientId).toBe("client-xyz");
    expect(new URL(login.authRedirectUrl).searchParams.get("client_id")).toBe("client-xyz");
  });

  it("refuses an issuer longer than 1,024 characters or bytes as a malformed login, before looking it up", async () => {
    const p = await testPlatform();
    const lookups: string[] = [];
    const platformsByIssuer = p.registrations.platformsByIssuer.bind(p.registrations);
    const getPlatform = p.registrations.getPlatform.bind(p.registrations);
    p.registrations.platformsByIssuer = async (issuer) => {
      lookups.push(issuer);
      return platformsByIssuer(issuer);
    };
    p.registrations.getPlatform = async (issuer, clientId) => {
      lookups.push(issuer);
      return getPlatform(issuer, clientId);
    };
    for (const issuer of [`${ISSUER}/${"a".repeat(1024)}`, `${ISSUER}/${"é".repeat(512)}`]) {
      expect(await rejection(p.login({ iss: issuer })), issuer).toBeInstanceOf(InvalidLoginRequestError);
    }
    expect(lookups).toEqual([]);
  });
});
