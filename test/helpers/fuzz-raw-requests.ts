import fc from "fast-check";
import { issueToken } from "../../service/auth/tokens.ts";
import type { FuzzTarget } from "./fuzz-case.ts";
import type { ClientErrorCode } from "./fuzz-values.ts";
import { withPayloadEdited } from "./tokens.ts";

/**
 * Requests node:http refuses to write: CR, LF or NUL inside header values, broken framing,
 * broken request lines. Written byte for byte on a socket. Node's parser answers most of
 * them itself with a bare 400 (or 431) and closes the connection; the rest reach the app,
 * which must answer with one of `codes`. Every one carries a bad token, so that whatever
 * the parser makes of an injected line, the request cannot be stored.
 */
export interface RawFuzzCase {
  via: "raw";
  label: string;
  bytes: Buffer;
  codes: readonly ClientErrorCode[];
}

interface RawParts {
  requestLine: string;
  /** Written as they are, each followed by CRLF: may hold CR, LF, NUL and injected lines. */
  headerLines: readonly string[];
  body: string;
}

function rawBytes({ requestLine, headerLines, body }: RawParts): Buffer {
  return Buffer.from(`${[requestLine, ...headerLines].join("\r\n")}\r\n\r\n${body}`, "latin1");
}

const BODY = JSON.stringify({ text: "smuggled" });

export function rawFuzzCases(target: FuzzTarget): fc.Arbitrary<RawFuzzCase> {
  const valid = issueToken(target.identity, target.secret);
  const badTokens = [
    issueToken(target.identity, target.secret, -60),
    issueToken(target.identity, `${target.secret}-other`),
    withPayloadEdited(valid, { ...target.identity, user: "someone-else", exp: 4102444800 }),
    valid.slice(0, -3),
  ];
  const turnsLine = `POST /conversations/${target.conversationId}/turns HTTP/1.1`;
  const common = (token: string) => [
    "Host: 127.0.0.1",
    "Connection: close",
    `Authorization: Bearer ${token}`,
    "Content-Type: application/json",
  ];
  // A well-formed, valid request sent right behind a malformed one on the same connection:
  // if the parser ever resynchronised on it, the store would change and the test would say so.
  const smuggled = rawBytes({
    requestLine: turnsLine,
    headerLines: [...common(valid), `Content-Length: ${BODY.length}`],
    body: BODY,
  }).toString("latin1");
  const badToken = fc.constantFrom(...badTokens);

  const authInjection = badToken.map((bad) => ({
    via: "raw" as const,
    label: "a second Authorization injected after a bad one",
    codes: ["unauthorized"] as const,
    bytes: rawBytes({
      requestLine: turnsLine,
      headerLines: [
        "Host: 127.0.0.1",
        "Connection: close",
        `Authorization: Bearer ${bad}\r\nAuthorization: Bearer ${valid}`,
        "Content-Type: application/json",
        `Content-Length: ${BODY.length}`,
      ],
      body: BODY,
    }),
  }));

  const controlInValue = fc
    .tuple(
      badToken,
      fc.constantFrom("X-Session", "Idempotency-Key", "Content-Type", "X-Trace"),
      fc.constantFrom("\r", "\n", "\u0000", "\r\n ", "\r\nX-Injected: 1", "\r\n\r\n", "\u0001"),
      fc.boolean(),
    )
    .map(([bad, name, separator, pipelineAnother]) => {
      // Only where the parser must give up (bare CR, NUL) is a request smuggled behind it.
      const smuggle = pipelineAnother && (separator === "\r" || separator === "\u0000");
      return {
        via: "raw" as const,
        label: `${JSON.stringify(separator)} inside ${name}${smuggle ? ", a valid request behind it" : ""}`,
        codes: ["unauthorized"] as const,
        bytes: Buffer.concat([
          rawBytes({
            requestLine: turnsLine,
            headerLines: [
              ...common(bad),
              `${name}: value${separator}more`,
              `Content-Length: ${BODY.length}`,
            ],
            body: BODY,
          }),
          Buffer.from(smuggle ? smuggled : "", "latin1"),
        ]),
      };
    });

  const framing = fc
    .tuple(
      badToken,
      fc.constantFrom(
        [`Content-Length: ${BODY.length}`, "Transfer-Encoding: chunked"],
        ["Transfer-Encoding: chunked", `Content-Length: ${BODY.length}`],
        [`Content-Length: ${BODY.length}`, "Content-Length: 0"],
        ["Content-Length: abc"],
        ["Content-Length: -1"],
        [`Content-Length: ${BODY.length} ${BODY.length}`],
        ["Transfer-Encoding: chunked, identity"],
      ),
      fc.boolean(),
    )
    .map(([bad, framingLines, pipelineAnother]) => ({
      via: "raw" as const,
      label: `ambiguous framing: ${framingLines.join(" + ")}`,
      codes: ["unauthorized"] as const,
      bytes: Buffer.concat([
        rawBytes({
          requestLine: turnsLine,
          headerLines: [...common(bad), ...framingLines],
          body: BODY,
        }),
        Buffer.from(pipelineAnother ? smuggled : "", "latin1"),
      ]),
    }));

  const badChunks = badToken.map((bad) => ({
    via: "raw" as const,
    label: "a chunked body with a broken chunk size",
    codes: ["unauthorized"] as const,
    bytes: rawBytes({
      requestLine: turnsLine,
      headerLines: [...common(bad), "Transfer-Encoding: chunked"],
      body: `zz\r\n${BODY}\r\n0\r\n\r\n`,
    }),
  }));

  const id = target.conversationId;
  const requestLine = fc
    .tuple(
      badToken,
      fc.constantFrom(
        `POST /conversations/a b/turns HTTP/1.1`,
        `POST /conversations/a\tb/turns HTTP/1.1`,
        `POST /conversations/a\u0001b/turns HTTP/1.1`,
        `POST /conversations/\u00e9/turns HTTP/1.1`,
        `POST /conversations/${Buffer.from("\u{1F600}\u202e").toString("latin1")}/turns HTTP/1.1`,
        `POST /conversations/a\r\nX-Injected: 1/turns HTTP/1.1`,
        `POST /conversations/${id}/turns HTTP/1.2`,
        `POST /conversations/${id}/turns HTTP/9.9`,
        `post /conversations/${id}/turns HTTP/1.1`,
        `FOO /conversations/${id}/turns HTTP/1.1`,
        `POST  /conversations/${id}/turns HTTP/1.1`,
        `POST /conversations/${id}/turns`,
        `POST http://evil.example/conversations/${id}/turns HTTP/1.1`,
        `POST conversations/${id}/turns HTTP/1.1`,
      ),
    )
    .map(([bad, line]) => ({
      via: "raw" as const,
      label: `request line ${JSON.stringify(line)}`,
      codes: ["unauthorized", "invalid_params", "not_found"] as const,
      bytes: rawBytes({
        requestLine: line,
        headerLines: [...common(bad), `Content-Length: ${BODY.length}`],
        body: BODY,
      }),
    }));

  const headerName = fc
    .tuple(
      badToken,
      fc.constantFrom(
        "X Bad: y",
        "X-Bad : y",
        ": y",
        "X-\u00e9: y",
        "X-Bad\u0000: y",
        "NoColon",
        " X-Lead: y",
      ),
    )
    .map(([bad, line]) => ({
      via: "raw" as const,
      label: `header line ${JSON.stringify(line)}`,
      codes: ["unauthorized"] as const,
      bytes: rawBytes({
        requestLine: turnsLine,
        headerLines: [...common(bad), line, `Content-Length: ${BODY.length}`],
        body: BODY,
      }),
    }));

  const missingHost = badToken.map((bad) => ({
    via: "raw" as const,
    label: "no Host header",
    codes: ["unauthorized"] as const,
    bytes: rawBytes({
      requestLine: turnsLine,
      headerLines: [...common(bad).slice(1), `Content-Length: ${BODY.length}`],
      body: BODY,
    }),
  }));

  const hugeHeader = fc
    .tuple(badToken, fc.integer({ min: 17_000, max: 24_000 }))
    .map(([bad, size]) => ({
      via: "raw" as const,
      label: `a ${size}-byte header`,
      codes: ["unauthorized"] as const,
      bytes: rawBytes({
        requestLine: turnsLine,
        headerLines: [
          ...common(bad),
          `X-Big: ${"a".repeat(size)}`,
          `Content-Length: ${BODY.length}`,
        ],
        body: BODY,
      }),
    }));

  return fc.oneof(
    { arbitrary: authInjection, weight: 2 },
    { arbitrary: controlInValue, weight: 4 },
    { arbitrary: framing, weight: 3 },
    { arbitrary: badChunks, weight: 1 },
    { arbitrary: requestLine, weight: 3 },
    { arbitrary: headerName, weight: 2 },
    { arbitrary: missingHost, weight: 1 },
    { arbitrary: hugeHeader, weight: 1 },
  );
}
