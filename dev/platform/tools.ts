/**
 * The tools registered with the development platform, as Moodle's "Manage tools" page holds
 * them: one configured by hand (the `tool` option, deployment "1", active) and any number
 * added by Dynamic Registration, which start "pending" until an administrator activates them.
 * Moodle's tool type id is the deployment id, and appears as `type_id` in service URLs.
 */
import { randomInt } from "node:crypto";
import { MESSAGE_TYPE, SERVICE_SCOPES } from "./claims.js";

export type ToolStatus = "active" | "pending";

/** The tool as this platform has it registered. */
export interface RegisteredTool {
  readonly clientId: string;
  /** Moodle's tool type id, as a string; also `type_id` in the service URLs. */
  readonly deploymentId: string;
  readonly name: string;
  readonly loginInitiationUrl: string;
  readonly targetLinkUri: string;
  readonly redirectUris: readonly string[];
  /** The tool's public keys: needed for the token endpoint and deep-linking responses. */
  readonly jwksUrl: string | undefined;
  /** Pending tools cannot launch or get access tokens (Moodle's "Pending" state). */
  readonly status: ToolStatus;
  /** Service scopes granted to the tool (AGS, NRPS). */
  readonly scopes: readonly string[];
  /** Where an `LtiDeepLinkingRequest` goes; undefined when the tool does not take them. */
  readonly deepLinkingUrl: string | undefined;
  /** Custom parameters sent in every launch of this tool (the link's own come on top). */
  readonly custom: Readonly<Record<string, string>>;
  /** The tool's domain (Dynamic Registration); undefined for a tool configured by hand. */
  readonly domain: string | undefined;
  readonly registeredBy: "configuration" | "dynamic-registration";
}

/** Moodle's `random_string(15)` alphabet. */
export function generateClientId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from({ length: 15 }, () => alphabet[randomInt(alphabet.length)]).join("");
}

export class UnknownToolError extends Error {
  constructor(ref: string) {
    super(`There is no tool "${ref}" registered on this platform (give its client_id or type id).`);
    this.name = "UnknownToolError";
  }
}

export class ToolRegistry {
  private readonly tools: RegisteredTool[] = [];

  constructor(first: RegisteredTool) {
    this.tools.push(first);
  }

  /** The tool configured by hand: the one `platform.tool` and `registration()` describe. */
  get first(): RegisteredTool {
    return this.tools[0] as RegisteredTool;
  }

  list(): readonly RegisteredTool[] {
    return [...this.tools];
  }

  /** By client_id, or by type (deployment) id. */
  find(ref: string): RegisteredTool | undefined {
    return this.tools.find((t) => t.clientId === ref) ?? this.tools.find((t) => t.deploymentId === ref);
  }

  get(ref: string): RegisteredTool {
    const tool = this.find(ref);
    if (!tool) throw new UnknownToolError(ref);
    return tool;
  }

  /** Moodle numbers tool types in order: the next free number. */
  nextDeploymentId(): string {
    const numbers = this.tools.map((t) => Number(t.deploymentId)).filter(Number.isInteger);
    return String(Math.max(0, ...numbers) + 1);
  }

  add(tool: RegisteredTool): RegisteredTool {
    if (this.find(tool.clientId) || this.tools.some((t) => t.deploymentId === tool.deploymentId)) {
      throw new Error(`A tool with client_id ${tool.clientId} or type id ${tool.deploymentId} exists.`);
    }
    this.tools.push(tool);
    return tool;
  }

  /** An administrator approves a pending tool. Idempotent. */
  activate(ref: string): RegisteredTool {
    const tool = this.get(ref);
    const activated: RegisteredTool = { ...tool, status: "active" };
    this.tools[this.tools.indexOf(tool)] = activated;
    return activated;
  }

  /** Origins the tools' pages are served from: who may use Platform Storage. */
  origins(): string[] {
    const origins = new Set<string>();
    for (const t of this.tools) {
      if (t.status !== "active") continue;
      for (const url of [t.loginInitiationUrl, t.targetLinkUri, ...t.redirectUris, t.deepLinkingUrl]) {
        if (url) origins.add(new URL(url).origin);
      }
    }
    return [...origins];
  }
}

/** The hand-configured tool's defaults: every service, deep linking at the target link URI. */
export function configuredTool(options: {
  clientId: string;
  deploymentId: string;
  name: string;
  loginInitiationUrl: string;
  targetLinkUri: string;
  redirectUris: readonly string[];
  jwksUrl: string | undefined;
  scopes?: readonly string[];
  deepLinkingUrl?: string | false;
  custom?: Readonly<Record<string, string>>;
}): RegisteredTool {
  return {
    clientId: options.clientId,
    deploymentId: options.deploymentId,
    name: options.name,
    loginInitiationUrl: options.loginInitiationUrl,
    targetLinkUri: options.targetLinkUri,
    redirectUris: [...options.redirectUris],
    jwksUrl: options.jwksUrl,
    status: "active",
    scopes: [...(options.scopes ?? SERVICE_SCOPES)],
    deepLinkingUrl:
      options.deepLinkingUrl === false ? undefined : (options.deepLinkingUrl ?? options.targetLinkUri),
    custom: { ...options.custom },
    domain: undefined,
    registeredBy: "configuration",
  };
}

/** Whether the tool takes this kind of launch. */
export function supportsMessage(tool: RegisteredTool, type: string): boolean {
  return type === MESSAGE_TYPE.resourceLink || (type === MESSAGE_TYPE.deepLinking && !!tool.deepLinkingUrl);
}
