import { parse as parseQuery } from "node:querystring";
import fc from "fast-check";
import { DROP, type FuzzTarget, httpCase, turn } from "./fuzz-case.ts";
import { hostileId } from "./fuzz-values.ts";

/** Paths, ids, methods and query strings the routes do not accept. */
export function badConversationId(target: FuzzTarget, token: string) {
  const encoded = hostileId.map(encodeURIComponent);
  const tooLong = fc.stringMatching(/^[A-Za-z0-9_-]{101,300}$/);
  const literal = fc.constantFrom(
    "{a}",
    "a:b",
    "*",
    "[a]",
    "a.b",
    ".",
    "..",
    "..%2F..%2Fhealthz",
    "%2e%2e",
    "%2E%2E%2F%2E%2E%2Fhealthz",
    "..%252F",
    "..%5C..%5C",
    "a%2Fb",
    "%00",
    "%0d%0a",
    "a%20b",
    "%7B%7D",
    "%2A",
    "%3F",
    "%5B",
    "%3A",
    "a;b",
    "a,b",
    "~a",
    "!a",
    "a'b",
    "a(b)",
  );
  const malformedEscapes = fc.constantFrom(
    "%E0%A4%A",
    "%",
    "%%",
    "%zz",
    "%C0%AF",
    "%ED%A0%80",
    "%FF",
    "a%2",
    "%E2%82",
    "%F0%9F%98",
  );
  const route = fc.constantFrom(
    { method: "POST", suffix: "turns" },
    { method: "GET", suffix: "messages" },
  );
  const invalid = fc
    .tuple(fc.oneof(encoded, tooLong, literal, malformedEscapes), route)
    .map(([id, { method, suffix }]) =>
      turn(target, token, { method, path: `/conversations/${id}/${suffix}` }),
    )
    .map(httpCase("a bad conversation id", ["invalid_params"]));
  const noSuchRoute = fc
    .constantFrom("/conversations//turns", "/conversations/a/b/turns", "/conversations/%2F/x/turns")
    .map((path) => turn(target, token, { path }))
    .map(httpCase("no conversation id", ["not_found"]));
  return fc.oneof({ arbitrary: invalid, weight: 8 }, { arbitrary: noSuchRoute, weight: 1 });
}

export function wrongMethod(target: FuzzTarget, token: string) {
  const id = target.conversationId;
  return fc
    .constantFrom(
      ...["DELETE", "PUT", "PATCH", "GET", "OPTIONS", "TRACE"].map((method) => ({
        method,
        path: `/conversations/${id}/turns`,
      })),
      ...["DELETE", "PUT", "PATCH", "POST", "OPTIONS"].map((method) => ({
        method,
        path: `/conversations/${id}/messages`,
      })),
      ...["DELETE", "PUT", "PATCH", "POST", "OPTIONS"].map((method) => ({
        method,
        path: "/healthz",
      })),
    )
    .chain(({ method, path }) =>
      fc.boolean().map((withToken) =>
        turn(target, token, {
          method,
          path,
          headers: withToken ? {} : { authorization: DROP },
          body: method === "TRACE" || method === "OPTIONS" ? "" : undefined,
        }),
      ),
    )
    .map(httpCase("a known path with a wrong method", ["method_not_allowed"]));
}

/** Paths the app does not serve, whatever the method (a trailing slash would still match a route). */
const SERVED = /^\/(healthz|conversations\/[^/]+\/(turns|messages))\/?$/i;

export function unknownPath(target: FuzzTarget, token: string) {
  const path = fc.oneof(
    fc.constantFrom(
      "/",
      "/conversations",
      "/conversations/",
      `/conversations/${target.conversationId}`,
      `/conversations/${target.conversationId}/turn`,
      `/conversations/${target.conversationId}/turns/x`,
      "/healthz/x",
      "/..%2Fhealthz",
      "/%2e%2e/healthz",
      "/admin",
    ),
    fc
      .array(fc.webSegment(), { minLength: 1, maxLength: 4 })
      .map((segments) => `/${segments.join("/")}`),
  );
  return fc
    .tuple(
      path.filter((p) => !SERVED.test(p)),
      fc.constantFrom("GET", "POST", "DELETE"),
    )
    .map(([p, method]) => turn(target, token, { method, path: p }))
    .map(httpCase("an unknown path", ["not_found"]));
}

export function queryString(target: FuzzTarget, token: string) {
  const query = fc.oneof(
    fc.constantFrom(
      "role=system",
      "__proto__[text]=polluted",
      "constructor.prototype.x=1",
      "a",
      "text=hi",
    ),
    fc.webQueryParameters(),
  );
  return fc
    .tuple(
      query.filter((q) => Object.keys(parseQuery(q)).length > 0),
      fc.boolean(),
    )
    .map(([q, read]) =>
      turn(target, token, {
        method: read ? "GET" : "POST",
        path: `/conversations/${target.conversationId}/${read ? "messages" : "turns"}?${q}`,
      }),
    )
    .map(httpCase("a query string", ["invalid_params"]));
}
