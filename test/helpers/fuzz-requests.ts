import fc from "fast-check";
import { issueToken } from "../../service/auth/tokens.ts";
import { badContentType, badFields, brokenJson, notAnObject } from "./fuzz-body-requests.ts";
import type { FuzzTarget, HttpFuzzCase } from "./fuzz-case.ts";
import { badAuthorization, badHeaders } from "./fuzz-header-requests.ts";
import { badConversationId, queryString, unknownPath, wrongMethod } from "./fuzz-route-requests.ts";

export type { FuzzTarget, HttpFuzzCase } from "./fuzz-case.ts";

/** Every kind of malformed request sent with node:http, each with its fault named. */
export function httpFuzzCases(target: FuzzTarget): fc.Arbitrary<HttpFuzzCase> {
  const token = issueToken(target.identity, target.secret);
  return (
    fc
      .oneof(
        { arbitrary: brokenJson(target, token), weight: 3 },
        { arbitrary: notAnObject(target, token), weight: 2 },
        { arbitrary: badFields(target, token), weight: 6 },
        { arbitrary: badContentType(target, token), weight: 2 },
        { arbitrary: badConversationId(target, token), weight: 5 },
        { arbitrary: badAuthorization(target, token), weight: 6 },
        { arbitrary: badHeaders(target, token), weight: 3 },
        { arbitrary: wrongMethod(target, token), weight: 2 },
        { arbitrary: unknownPath(target, token), weight: 1 },
        { arbitrary: queryString(target, token), weight: 1 },
      )
      // CR, LF, NUL and DEL in header values go over raw sockets instead (see fuzz-raw-requests.ts).
      .filter((fuzzCase) => Object.values(fuzzCase.request.headers).every(sendableHeaderValue))
  );
}

/** What node:http agrees to send as a header value. */
const sendableHeaderValue = (value: string) => /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
