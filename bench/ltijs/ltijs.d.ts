// ltijs 5.9.9 ships no types; just the part the benchmark baseline uses.
declare module "ltijs" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  /** Express's response, as far as the baseline uses it. */
  export interface LtijsResponse extends ServerResponse {
    locals: Record<string, unknown>;
    status(code: number): LtijsResponse;
    send(body: unknown): LtijsResponse;
    setHeader(name: string, value: string): this;
  }

  /** The stored id token ltijs passes to onConnect (`res.locals.token`). */
  export interface LtijsIdToken {
    iss: string;
    user: string;
    clientId: string;
    deploymentId: string;
    userInfo?: { given_name?: string; family_name?: string; name?: string; email?: string };
    platformContext?: {
      roles?: string[];
      context?: { id?: string; label?: string; title?: string };
      resource?: { id?: string; title?: string };
      messageType?: string;
    };
  }

  export type ConnectCallback = (
    token: LtijsIdToken,
    req: IncomingMessage,
    res: LtijsResponse,
    next: () => void,
  ) => unknown;

  export interface LtijsPlatformInput {
    url: string;
    name: string;
    clientId: string;
    authenticationEndpoint: string;
    accesstokenEndpoint: string;
    authorizationServer?: string;
    authConfig: { method: "JWK_SET" | "JWK_KEY" | "RSA_KEY"; key: string };
  }

  export interface LtijsSetupOptions {
    appRoute?: string;
    loginRoute?: string;
    keysetRoute?: string;
    dynRegRoute?: string;
    devMode?: boolean;
    tokenMaxAge?: number | false;
    cors?: boolean;
    cookies?: { secure?: boolean; sameSite?: "None" | "Lax" | "Strict"; domain?: string };
  }

  /** Express app: a Node request listener. */
  export type ExpressApp = (req: IncomingMessage, res: ServerResponse) => void;

  export interface LtijsProvider {
    app: ExpressApp;
    setup(
      encryptionKey: string,
      database: { plugin: unknown } | { url: string },
      options?: LtijsSetupOptions,
    ): this;
    deploy(options?: { serverless?: boolean; silent?: boolean; port?: number }): Promise<boolean>;
    close(options?: { silent?: boolean }): Promise<boolean>;
    onConnect(callback: ConnectCallback): true;
    onInvalidToken(callback: (req: IncomingMessage, res: LtijsResponse) => unknown): true;
    onSessionTimeout(callback: (req: IncomingMessage, res: LtijsResponse) => unknown): true;
    registerPlatform(platform: LtijsPlatformInput): Promise<unknown>;
    appRoute(): string;
    loginRoute(): string;
    keysetRoute(): string;
  }

  const ltijs: { Provider: LtijsProvider };
  export default ltijs;
}
