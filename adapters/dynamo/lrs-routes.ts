import { randomUUID } from "node:crypto";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { issuesFromZod } from "../../domain/errors.js";
import type { TenantRef } from "../../domain/tenancy.js";
import * as z from "../../domain/zod.js";
import { isEndpointUrl, PlatformRegistrationInputSchema, RegisteredId } from "../../lti-tool/registration.js";
import { type ActorIdentifierType, ActorIdentifierTypeSchema } from "../../statements/builders.js";
import { type CredentialCipher, SealedSecretSchema } from "../../statements/credential-cipher.js";
import { InvalidLrsRouteError } from "../../statements/errors.js";
import {
  LrsCredentials,
  type LrsRoute,
  type LrsRouteInput,
  type LrsRouteScope,
  type LrsRouteStore,
  type LrsRouteWithCredentials,
  type TenantXapiTarget,
} from "../../statements/ports.js";
import { queryAll } from "./query.js";
import { keyPart, keys, TABLE_KEYS } from "./table.js";
import { type OnUnreadable, readRows, unreadableRow } from "./unreadable.js";

/**
 * LRS routes per tenant. A route is one LRS (endpoint + Basic credentials) for a platform
 * registration (issuer, client_id) or for one deployment; a deployment's routes replace its
 * platform's. A tenant may send to several LRSs. Credentials are sealed with the
 * CredentialCipher (AES-256-GCM, route id as associated data) and never stored in plain text.
 *
 *   route     pk LRSROUTE#<routeId>  sk ROUTE   gsi1pk LRSROUTES  gsi1sk <issuer>#<clientId>#<deployment|*>#<routeId>
 *   settings  pk XAPISETTINGS#<issuer>#<clientId>  sk PLATFORM | DEPLOYMENT#<deploymentId>
 *
 * Key parts are URI-encoded so a `#` inside an issuer cannot shift the fields (keyPart): in the
 * route's gsi1sk a part past 300 characters escaped is its hash, so the three of them and the
 * route id fit a sort key (1,024 bytes); the settings' deployment part past 600.
 */

const sortPart = (value: string) => keyPart(value, 300);

function scopeSortPrefix(scope: { issuer: string; clientId: string }): string {
  return `${sortPart(scope.issuer)}#${sortPart(scope.clientId)}#`;
}

function routeSortKey(scope: LrsRouteScope, routeId: string): string {
  return `${scopeSortPrefix(scope)}${scope.deploymentId === undefined ? "*" : sortPart(scope.deploymentId)}#${routeId}`;
}

const settingsSortKey = (deploymentId: string) => `DEPLOYMENT#${keyPart(deploymentId)}`;

function credentialsAad(routeId: string): string {
  return `hlta-lrs-route:${routeId}`;
}

const RouteItemSchema = z.object({
  routeId: z.string(),
  issuer: z.string(),
  clientId: z.string(),
  deploymentId: z.optional(z.string()),
  name: z.string(),
  endpoint: z.string(),
  enabled: z.boolean(),
  createdAt: z.string(),
  credentials: SealedSecretSchema,
});

// Built on first use: only the forwarder opens a route's credentials, never a launch.
const CredentialsPlainSchema = z.lazySchema(() => z.object({ username: z.string(), password: z.string() }));

const SettingsItemSchema = z.object({ actorIdentifier: ActorIdentifierTypeSchema });

function toRoute(item: z.infer<typeof RouteItemSchema>): LrsRoute {
  return {
    routeId: item.routeId,
    scope: {
      issuer: item.issuer,
      clientId: item.clientId,
      ...(item.deploymentId === undefined ? {} : { deploymentId: item.deploymentId }),
    },
    name: item.name,
    endpoint: item.endpoint,
    enabled: item.enabled,
    createdAt: item.createdAt,
  };
}

/**
 * The scope of a route or of a tenant's settings: the same rules as a platform registration's.
 * Built on first use, as those: only an administrator saves routes and settings.
 */
const ScopeSchema = z.lazySchema(() =>
  z.object({
    issuer: PlatformRegistrationInputSchema().shape.issuer,
    clientId: RegisteredId(),
    deploymentId: z.optional(RegisteredId()),
  }),
);

/** Every problem with a scope, as "scope.issuer: …" issues (none when it is valid). */
export function scopeIssues(scope: unknown): { path: string; message: string }[] {
  const parsed = ScopeSchema().safeParse(scope);
  return parsed.success ? [] : issuesFromZod(parsed.error).map((i) => ({ ...i, path: `scope.${i.path}` }));
}

export function validateRouteInput(input: LrsRouteInput): void {
  const issues: { path: string; message: string }[] = scopeIssues(input.scope);
  let url: URL | undefined;
  try {
    url = new URL(input.endpoint);
  } catch {
    issues.push({ path: "endpoint", message: "must be an absolute URL" });
  }
  if (url && !isEndpointUrl(input.endpoint)) {
    issues.push({
      path: "endpoint",
      message: "must use https, to a public address (plain http only on this machine)",
    });
  }
  // The LRS key and secret have their own fields (the secret kept encrypted): in the address they
  // would be shown on the admin page and quoted in errors. A query or fragment would be lost when
  // the tool adds `statements` to the address.
  if (url && (url.username !== "" || url.password !== "")) {
    issues.push({
      path: "endpoint",
      message: "must not hold a key or secret (give them as the route's username and password)",
    });
  }
  if (url && (url.search !== "" || url.hash !== "")) {
    issues.push({ path: "endpoint", message: "must not have a query or fragment (?… or #…)" });
  }
  if (input.endpoint.length > 2048)
    issues.push({ path: "endpoint", message: "must be at most 2,048 characters" });
  if (input.username.length === 0) issues.push({ path: "username", message: "must not be empty" });
  if (input.password.length === 0) issues.push({ path: "password", message: "must not be empty" });
  if (input.name.trim().length === 0) issues.push({ path: "name", message: "must not be empty" });
  if (input.name.length > 200) issues.push({ path: "name", message: "must be at most 200 characters" });
  if (/\p{Cc}/u.test(input.name))
    issues.push({ path: "name", message: "must not contain control characters" });
  if (issues.length > 0) throw new InvalidLrsRouteError("The LRS route is not valid.", issues);
}

export class DynamoLrsRouteStore implements LrsRouteStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cipher: CredentialCipher,
    private readonly options: { now?: () => Date; newId?: () => string; onUnreadable?: OnUnreadable } = {},
  ) {}

  /**
   * The rows the schema reads. A row another version of the tool wrote, or a hand edited, is
   * left out and reported: it must not stop its platform's launches (every one resolves its
   * routes and settings) or the sweep.
   */
  private readable<T>(
    items: readonly Record<string, unknown>[],
    schema: Parameters<typeof readRows<T>>[1],
    reading: string,
  ): T[] {
    const { rows, unreadable } = readRows(items, schema);
    for (const { item, issues } of unreadable)
      this.options.onUnreadable?.(unreadableRow(item, issues, reading));
    return rows;
  }

  async saveRoute(input: LrsRouteInput): Promise<LrsRoute> {
    validateRouteInput(input);
    const routeId = input.routeId ?? (this.options.newId ?? randomUUID)();
    const existing = input.routeId ? await this.getRoute(input.routeId) : undefined;
    const createdAt = existing?.createdAt ?? (this.options.now?.() ?? new Date()).toISOString();
    const sealed = await this.cipher.encrypt(
      JSON.stringify({ username: input.username, password: input.password }),
      credentialsAad(routeId),
    );
    const route: LrsRoute = {
      routeId,
      scope: input.scope,
      name: input.name.trim(),
      endpoint: input.endpoint,
      enabled: input.enabled ?? true,
      createdAt,
    };
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.lrsRoute(routeId),
          ...keys.lrsRouteListing,
          [TABLE_KEYS.gsi1sk]: routeSortKey(input.scope, routeId),
          kind: "lrs-route",
          routeId,
          issuer: input.scope.issuer,
          clientId: input.scope.clientId,
          ...(input.scope.deploymentId === undefined ? {} : { deploymentId: input.scope.deploymentId }),
          name: route.name,
          endpoint: route.endpoint,
          enabled: route.enabled,
          createdAt,
          credentials: sealed,
        },
      }),
    );
    return route;
  }

  /** Removes the route; false when there was none with this id. */
  async removeRoute(routeId: string): Promise<boolean> {
    if (routeId.length > 200) return false;
    const out = await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: keys.lrsRoute(routeId), ReturnValues: "ALL_OLD" }),
    );
    return out.Attributes !== undefined;
  }

  private async getItem(routeId: string) {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.lrsRoute(routeId), ConsistentRead: true }),
    );
    return out.Item ? RouteItemSchema.parse(out.Item) : undefined;
  }

  async getRoute(routeId: string): Promise<LrsRoute | undefined> {
    const item = await this.getItem(routeId);
    return item ? toRoute(item) : undefined;
  }

  async getRouteWithCredentials(routeId: string): Promise<LrsRouteWithCredentials | undefined> {
    const item = await this.getItem(routeId);
    if (!item) return undefined;
    const plain = CredentialsPlainSchema().parse(
      JSON.parse(await this.cipher.decrypt(item.credentials, credentialsAad(routeId))),
    );
    return { ...toRoute(item), credentials: new LrsCredentials(plain.username, plain.password) };
  }

  private async queryRoutes(prefix: string | undefined): Promise<LrsRoute[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: TABLE_KEYS.gsi1,
      KeyConditionExpression:
        prefix === undefined ? "#gpk = :gpk" : "#gpk = :gpk AND begins_with(#gsk, :prefix)",
      ExpressionAttributeNames: {
        "#gpk": TABLE_KEYS.gsi1pk,
        ...(prefix === undefined ? {} : { "#gsk": TABLE_KEYS.gsi1sk }),
      },
      ExpressionAttributeValues: {
        ":gpk": keys.lrsRouteListing.gsi1pk,
        ...(prefix === undefined ? {} : { ":prefix": prefix }),
      },
    });
    return this.readable(items, RouteItemSchema, "LRS routes").map(toRoute);
  }

  listRoutes(): Promise<LrsRoute[]> {
    return this.queryRoutes(undefined);
  }

  async saveTenantSettings(
    scope: LrsRouteScope,
    settings: { actorIdentifier: ActorIdentifierType },
  ): Promise<void> {
    const issues = scopeIssues(scope);
    if (issues.length > 0) throw new InvalidLrsRouteError("The tenant is not valid.", issues);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.xapiSettings(scope.issuer, scope.clientId),
          [TABLE_KEYS.sk]:
            scope.deploymentId === undefined ? "PLATFORM" : settingsSortKey(scope.deploymentId),
          kind: "xapi-settings",
          actorIdentifier: settings.actorIdentifier,
        },
      }),
    );
  }

  async resolveTenant(tenant: TenantRef): Promise<TenantXapiTarget> {
    const [routes, settings] = await Promise.all([
      this.queryRoutes(scopeSortPrefix(tenant)),
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "#pk = :pk",
          ExpressionAttributeNames: { "#pk": TABLE_KEYS.pk },
          ExpressionAttributeValues: { ":pk": keys.xapiSettings(tenant.issuer, tenant.clientId).pk },
        }),
      ),
    ]);
    const enabled = routes.filter((r) => r.enabled);
    const ofDeployment = enabled.filter((r) => r.scope.deploymentId === tenant.deploymentId);
    const ofPlatform = enabled.filter((r) => r.scope.deploymentId === undefined);
    const bySk = new Map((settings.Items ?? []).map((i) => [String(i[TABLE_KEYS.sk]), i]));
    const setting = bySk.get(settingsSortKey(tenant.deploymentId)) ?? bySk.get("PLATFORM");
    const [read] = this.readable(setting ? [setting] : [], SettingsItemSchema, "xAPI settings");
    return {
      // Unreadable settings: the default, as with none (the LTI account, which names no one).
      actorIdentifier: read?.actorIdentifier ?? "account",
      routes: ofDeployment.length > 0 ? ofDeployment : ofPlatform,
    };
  }
}
