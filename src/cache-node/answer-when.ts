import type { ServerResponse } from 'node:http';

/**
 * Answers a request that may wait for near-cache subscribers (an invalidation, an ownership
 * change, a clear): `wait` gets `answer`, to call once the subscribers are done. If it is not
 * called at once, the node says `102 Processing` first, so the caller knows the node is alive and
 * waiting (a subscriber's lease), not stalled: it can find a stalled node out within its plain
 * request timeout and still give a waiting one a lease (CacheNodeClient).
 */
export function answerWhen(
  res: ServerResponse,
  wait: (answer: (send: () => void) => void) => void,
): void {
  let answered = false;
  wait((send) => {
    answered = true;
    send();
  });
  if (!answered && !res.headersSent) res.writeProcessing();
}
