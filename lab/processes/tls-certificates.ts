import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generate } from "selfsigned";

/** PEM files for a TLS server on this machine, and the CA a client must trust to reach it. */
export interface TestCertificates {
  /** The CA's certificate: what REDIS_TLS_CA points at. */
  caFile: string;
  /** The server's certificate (127.0.0.1, ::1 and localhost), signed by that CA. */
  certFile: string;
  /** The server's private key. */
  keyFile: string;
}

/** Long enough for any test run, short enough that a stray file is no lasting credential. */
const VALID_DAYS = 2;

/**
 * Makes a throwaway CA and a server certificate it signs, for 127.0.0.1 and localhost, and
 * writes them into `dir` (ca.crt, server.crt, server.key). Generated at test time with
 * `selfsigned` (Node's WebCrypto), so a fresh machine needs no openssl CLI. EC P-256 keys:
 * a few milliseconds each where 2048-bit RSA takes hundreds.
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + VALID_DAYS * 24 * 3600_000);
  const dates = { notBeforeDate, notAfterDate, keyType: "ec", algorithm: "sha256" } as const;
  const ca = await generate([{ name: "commonName", value: "agent-sandbox test CA" }], {
    ...dates,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = await generate([{ name: "commonName", value: "localhost" }], {
    ...dates,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  const files = {
    caFile: join(dir, "ca.crt"),
    certFile: join(dir, "server.crt"),
    keyFile: join(dir, "server.key"),
  };
  await writeFile(files.caFile, ca.cert);
  await writeFile(files.certFile, server.cert);
  // Only this user may read the key: redis-server runs as this user and needs nothing more.
  await writeFile(files.keyFile, server.private, { mode: 0o600 });
  return files;
}
