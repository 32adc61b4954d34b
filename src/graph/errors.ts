/** Graph's error body: `{"error":{"code","message","innerError":{...}}}`, as every Graph endpoint returns it. */
import { randomUUID } from 'node:crypto';

export interface GraphErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { date: string; 'request-id': string; 'client-request-id': string };
  };
}

/** `clientRequestId` is the caller's `client-request-id` header when it sent one; Graph repeats the request id otherwise. */
export function graphErrorBody(code: string, message: string, requestId: string = randomUUID(), clientRequestId: string = requestId): GraphErrorBody {
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().slice(0, 19),
        'request-id': requestId,
        'client-request-id': clientRequestId,
      },
    },
  };
}
