import fc from "fast-check";
import { DROP, type FuzzTarget, httpCase, turn } from "./fuzz-case.ts";
import {
  type ClientErrorCode,
  FORBIDDEN_TEXT_CHARS,
  hostileId,
  jsonObject,
  TEXT_UNITS,
} from "./fuzz-values.ts";

/** Bodies and content types that are not a turn. */
export function brokenJson(target: FuzzTarget, token: string) {
  const valid = JSON.stringify({ text: "hello", turnId: "t-1" });
  const truncated = fc.integer({ min: 1, max: valid.length - 1 }).map((end) => valid.slice(0, end));
  const fixed = fc.constantFrom(
    '{"text":"a",}',
    "{'text':'a'}",
    '{"text":"a"}}',
    '{"text":"a"} trailing',
    "NaN",
    "undefined",
    '{"text": undefined}',
    '//comment\n{"text":"a"}',
    '{"text":"\\x41"}',
    '{"text":"\\u12"}',
    '{"text":"a\nb"}',
    "\u0000",
    "{,}",
  );
  const garbage = fc
    .string({ minLength: 1, maxLength: 40 })
    .map((tail) => `{${tail}`)
    .filter((body) => !parses(body));
  const invalidUtf8 = fc
    .constantFrom([0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xf8, 0x88])
    .map((bytes) =>
      Buffer.concat([Buffer.from('{"text":"a'), Buffer.from(bytes), Buffer.from('b"}')]),
    );
  return fc
    .oneof(
      fc.oneof(truncated, fixed, garbage).map((body) => turn(target, token, { body })),
      invalidUtf8.map((body) => ({ ...turn(target, token), body })),
    )
    .map(httpCase("invalid JSON", ["invalid_json"]));
}

export function notAnObject(target: FuzzTarget, token: string) {
  const fixed = fc.constantFrom("null", "true", "0", "-1.5e3", "1e400", '"text"', '""', "[]");
  const anyValue = fc
    .jsonValue({ maxDepth: 2 })
    .filter((value) => typeof value !== "object" || value === null || Array.isArray(value))
    .map((value) => JSON.stringify(value));
  const wrapped = fc.constant('[{"text":"hello"}]');
  return fc
    .oneof(fixed, anyValue, wrapped)
    .map((body) => turn(target, token, { body }))
    .map(httpCase("a JSON body that is not an object", ["invalid_body"]));
}

export function badFields(target: FuzzTarget, token: string) {
  const body = (label: string, codes: readonly ClientErrorCode[], bodies: fc.Arbitrary<string>) =>
    bodies.map((text) => turn(target, token, { body: text })).map(httpCase(label, codes));
  const wrongType = fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.double(),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
  );
  const blank = fc.string({
    unit: fc.constantFrom(" ", "\t", "\n", "\r", "\u00a0", "\u2028", "\u3000", "\ufeff", "\u1680"),
    maxLength: 20,
  });
  // zod measures text in code points: an emoji is one, a ZWJ family several.
  const tooLong = fc
    .tuple(fc.constantFrom(...TEXT_UNITS), fc.integer({ min: 1, max: 400 }))
    .map(
      ([unit, extra]) =>
        `x${unit.repeat(Math.ceil((target.textMaxChars + extra) / [...unit].length))}`,
    );
  const huge = fc
    .tuple(fc.constantFrom(...TEXT_UNITS), fc.integer({ min: 1, max: 48_000 }))
    .map(([unit, extra]) => unit.repeat(Math.ceil((target.bodyLimitBytes + extra) / unit.length)));
  const forbidden = fc
    .tuple(
      fc.string({ maxLength: 10 }),
      fc.constantFrom(...FORBIDDEN_TEXT_CHARS),
      fc.string({ maxLength: 10 }),
    )
    .map(([head, bad, tail]) => `ok${head}${bad}${tail}ok`);
  const unknownKey = fc.oneof(
    fc.constantFrom(
      "__proto__",
      "constructor",
      "prototype",
      "toString",
      "hasOwnProperty",
      "valueOf",
      "__defineGetter__",
      "role",
      "system",
      "Text",
      "TEXT",
      "text ",
      "turnid",
      "turn_id",
      "",
      "\u202etext",
      "text\u200b",
    ),
    fc.string({ minLength: 1, maxLength: 12 }),
  );
  const pollution = fc.constantFrom(
    '{"__proto__":{"text":"polluted"}}',
    '{"text":"hi","__proto__":{"isAdmin":true,"text":"polluted"}}',
    '{"constructor":{"prototype":{"text":"polluted"}}}',
    '{"text":"hi","constructor":{"prototype":{"turnId":"polluted"}}}',
    '{"text":"hi","prototype":{"text":"polluted"}}',
    '{"text":{"__proto__":{"length":1}}}',
  );
  const badTurnId = fc.oneof(
    fc.constantFrom("", " ", "a b", "a:b", "{t}", "*", "t?", "[t]", "a\r\nb", "../t", "\u{1F600}"),
    fc.stringMatching(/^[A-Za-z0-9_-]{65,120}$/),
    hostileId,
    wrongType,
  );
  return fc.oneof(
    body(
      "text of the wrong type",
      ["invalid_body"],
      wrongType.map((text) => JSON.stringify({ text })),
    ),
    body("no text", ["invalid_body"], fc.constantFrom("", "{}", '{"turnId":"t-1"}')),
    body(
      "blank text",
      ["invalid_body"],
      blank.map((text) => JSON.stringify({ text })),
    ),
    body(
      "text over TEXT_MAX_CHARS",
      ["invalid_body"],
      tooLong.map((text) => JSON.stringify({ text })),
    ),
    body(
      "a body over BODY_LIMIT",
      ["body_too_large"],
      huge.map((text) => JSON.stringify({ text })),
    ),
    body(
      "text with a lone surrogate or a control character",
      ["invalid_body"],
      forbidden.map((text) => JSON.stringify({ text })),
    ),
    body(
      "an unknown field",
      ["invalid_body"],
      fc
        .tuple(unknownKey, fc.jsonValue({ maxDepth: 2 }))
        .filter(([key]) => key !== "text" && key !== "turnId")
        .map(([key, value]) =>
          jsonObject([
            ["text", "hello"],
            [key, value],
          ]),
        ),
    ),
    body("a prototype-pollution payload", ["invalid_body"], pollution),
    body(
      "a bad turnId",
      ["invalid_body"],
      badTurnId
        .filter((turnId) => typeof turnId !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(turnId))
        .map((turnId) => JSON.stringify({ text: "hello", turnId })),
    ),
    fc
      .tuple(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/))
      .filter(([inBody, inHeader]) => inBody !== inHeader)
      .map(([inBody, inHeader]) =>
        turn(target, token, {
          headers: { "idempotency-key": inHeader },
          body: JSON.stringify({ text: "hello", turnId: inBody }),
        }),
      )
      .map(httpCase("turnId and Idempotency-Key differ", ["invalid_body"])),
  );
}

export function badContentType(target: FuzzTarget, token: string) {
  const contentType = fc.constantFrom(
    DROP,
    "",
    "text/plain",
    "text/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "application/jsonp",
    "application/json-patch+json",
    "application/vnd.api+json",
    "application",
    "*/*",
    "application/json; charset=latin1",
    "application/json; charset=utf-16",
    "application/json; charset=utf-32le",
  );
  const encoded = fc
    .constantFrom("gzip", "deflate", "br", "compress", "x-unknown")
    .map((encoding) => turn(target, token, { headers: { "content-encoding": encoding } }));
  return fc
    .oneof(
      contentType.map((type) => turn(target, token, { headers: { "content-type": type } })),
      encoded,
    )
    .map(httpCase("a body that is not declared as plain UTF-8 JSON", ["unsupported_media_type"]));
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
