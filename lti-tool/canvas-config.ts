import { SCOPES } from "./advantage/service-client.js";

export interface CanvasConfigUrls {
  login: string;
  targetLinkUri: string;
  jwks: string;
  deepLinking: string;
  launch: string;
}

/**
 * The LTI 1.3 JSON configuration a Canvas admin pastes as a URL into a developer key
 * (Canvas docs: "Configuring LTI Advantage tools", JSON fields). Placements: course navigation
 * opens the candidate's home or the tutor's cohort; link and assignment selection open deep
 * linking so tutors place exactly the activity they want (graded ones as assignments).
 */
export function canvasConfiguration(urls: CanvasConfigUrls, toolName: string) {
  const domain = new URL(urls.targetLinkUri).host;
  return {
    title: toolName,
    description:
      "Prepare for Higher Level Teaching Assistant (HLTA) status: standards, written tasks and evidence file.",
    oidc_initiation_url: urls.login,
    target_link_uri: urls.targetLinkUri,
    public_jwk_url: urls.jwks,
    scopes: [
      SCOPES.lineItem,
      SCOPES.lineItemReadOnly,
      SCOPES.score,
      SCOPES.resultReadOnly,
      SCOPES.memberships,
    ],
    // Canvas substitutes these at launch; the tool reads them as `custom` claims.
    custom_fields: {
      canvas_course_id: "$Canvas.course.id",
      user_locale: "$Message.locale",
    },
    extensions: [
      {
        platform: "canvas.instructure.com",
        domain,
        tool_id: "hlta-preparation",
        // Names for tutors' cohort views and email for providers who identify xAPI actors by mbox.
        privacy_level: "public",
        settings: {
          text: toolName,
          placements: [
            {
              placement: "course_navigation",
              message_type: "LtiResourceLinkRequest",
              target_link_uri: urls.targetLinkUri,
              text: toolName,
              enabled: true,
              default: "enabled",
              visibility: "members",
            },
            {
              placement: "link_selection",
              message_type: "LtiDeepLinkingRequest",
              target_link_uri: urls.deepLinking,
              text: "HLTA activity",
              enabled: true,
            },
            {
              placement: "assignment_selection",
              message_type: "LtiDeepLinkingRequest",
              target_link_uri: urls.deepLinking,
              text: "HLTA activity (graded)",
              enabled: true,
            },
          ],
        },
      },
    ],
  };
}
