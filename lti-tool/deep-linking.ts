import { CLAIM, type DeepLinkingClaims, LTI_VERSION } from "./claims.js";
import { randomToken } from "./crypto.js";
import type { ToolSigner } from "./tool-keys.js";

export const DL_CLAIM = {
  contentItems: "https://purl.imsglobal.org/spec/lti-dl/claim/content_items",
  data: "https://purl.imsglobal.org/spec/lti-dl/claim/data",
  msg: "https://purl.imsglobal.org/spec/lti-dl/claim/msg",
} as const;

/** An `ltiResourceLink` content item (Deep Linking 2.0 §3.1). */
export interface ResourceLinkItem {
  type: "ltiResourceLink";
  title: string;
  text?: string;
  url: string;
  custom?: Record<string, string>;
  /** Graded items declare their line item so the LMS creates the gradebook column (§3.1.2). */
  lineItem?: { scoreMaximum: number; label: string; resourceId: string; tag?: string };
  iframe?: { width?: number; height?: number };
}

/** What the deep-linking request told us, kept (signed) until the tutor chooses. */
export interface DeepLinkingContext {
  issuer: string;
  clientId: string;
  deploymentId: string;
  returnUrl: string;
  data?: string;
  acceptMultiple: boolean;
  acceptLineItem: boolean;
}

export function deepLinkingContext(claims: DeepLinkingClaims, clientId: string): DeepLinkingContext {
  const s = claims[CLAIM.deepLinkingSettings];
  return {
    issuer: claims.iss,
    clientId,
    deploymentId: claims[CLAIM.deploymentId],
    returnUrl: s.deep_link_return_url,
    ...(s.data !== undefined ? { data: s.data } : {}),
    acceptMultiple: s.accept_multiple ?? false,
    // Absent, "no assumption … should be made" (Deep Linking 2.0 §4.4.1): the line item goes, and
    // a platform without them ignores it. Only an explicit false drops it. Moodle 4.x sends none,
    // and creates the gradebook column from the item's lineItem.
    acceptLineItem: s.accept_lineitem !== false,
  };
}

/** The LtiDeepLinkingResponse JWT (Deep Linking 2.0 §4.5), signed with the tool's key. */
export async function buildDeepLinkingResponse(
  ctx: DeepLinkingContext,
  items: readonly ResourceLinkItem[],
  signer: ToolSigner,
  now = new Date(),
): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  const chosen = ctx.acceptMultiple ? items : items.slice(0, 1);
  return signer.sign({
    iss: ctx.clientId,
    aud: ctx.issuer,
    iat,
    exp: iat + 300,
    nonce: randomToken(16),
    [CLAIM.messageType]: "LtiDeepLinkingResponse",
    [CLAIM.version]: LTI_VERSION,
    [CLAIM.deploymentId]: ctx.deploymentId,
    [DL_CLAIM.contentItems]: chosen.map((item) => (ctx.acceptLineItem ? item : withoutLineItem(item))),
    // `data` must come back exactly as it was sent (§4.5.4).
    ...(ctx.data !== undefined ? { [DL_CLAIM.data]: ctx.data } : {}),
  });
}

function withoutLineItem(item: ResourceLinkItem): ResourceLinkItem {
  const { lineItem: _lineItem, ...rest } = item;
  return rest;
}
