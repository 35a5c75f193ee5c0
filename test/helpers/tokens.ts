import { createHmac } from "node:crypto";

/**
 * Tokens the issuer would never make, signed like service/auth/tokens.ts signs: a payload of any shape
 * with a valid signature, so a test can tell a payload check from a signature check.
 */
export function signRawPayload(payloadJson: string, secret: string): string {
  const body = Buffer.from(payloadJson).toString("base64url");
  const signature = createHmac("sha256", secret).update(body).digest("base64url");
  return `${body}.${signature}`;
}

const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The token with the signature letter at `index` replaced by the letter `step` places further on. */
export function withSignatureCharReplaced(token: string, index: number, step = 1): string {
  const [body, signature = ""] = token.split(".");
  const at = index % signature.length;
  const current = BASE64URL_ALPHABET.indexOf(signature[at] ?? "A");
  const replacement = BASE64URL_ALPHABET[(current + step) % 64];
  return `${body}.${signature.slice(0, at)}${replacement}${signature.slice(at + 1)}`;
}

/** The same signature bytes spelled differently: the last letter's two spare bits set. */
export function withNonCanonicalSignature(token: string): string {
  const [body, signature = ""] = token.split(".");
  const last = BASE64URL_ALPHABET.indexOf(signature.at(-1) ?? "A");
  // 32 bytes take 43 letters; the last one carries 4 bits, so its low 2 bits are spare.
  const spelled = BASE64URL_ALPHABET[last | 0b11];
  return `${body}.${signature.slice(0, -1)}${spelled}`;
}

/** The token's payload replaced by `payload`, its signature kept. */
export function withPayloadEdited(token: string, payload: object): string {
  const signature = token.split(".")[1];
  return `${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${signature}`;
}
