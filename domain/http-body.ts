/**
 * Reading what another system answers, within bounds. The LMS, its JWKS and the provider's LRS
 * are outside the tool's control: a body is read up to a cap, so one huge or endless answer
 * cannot take a Lambda's memory (512 MB) with it. No I/O of its own: it reads a Response.
 */

/** The answer was longer than the reader takes. */
export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the answer is longer than ${maxBytes} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/** The body as UTF-8 text, at most `maxBytes`; past that the rest is cancelled and BodyTooLargeError thrown. */
export async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BodyTooLargeError(maxBytes);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Whether a status is a redirect: the tool follows none, so credentials and bodies stay with the host they were meant for. */
export const isRedirect = (status: number) => status >= 300 && status < 400;
