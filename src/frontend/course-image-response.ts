import type { ServerResponse } from 'node:http';
import { base64Length, base64Pieces, ResponseBudget } from '../common/response-budget';
import { StoredImage } from '../image/stored-image';
import { versionEtag } from '../image/image-response';

/**
 * The course's `{"success":"true","key":…,"content":"<base64>"}`, byte for byte what
 * JSON.stringify(success({ key, content })) writes (base64 needs no escaping), but encoded piece by
 * piece as the client reads: a 10 MiB image is a 13 MiB body, and a reader that never reads must
 * not make the app hold one per connection. Throws ServiceBusyError when the budget has no room.
 */
export function sendCourseImage(
  res: ServerResponse,
  image: StoredImage,
  budget: ResponseBudget,
): void {
  const head = `{"success":"true","key":${JSON.stringify(image.key)},"content":"`;
  const tail = '"}';
  const length = Buffer.byteLength(head) + base64Length(image.body.length) + tail.length;
  budget.send(res, image.key, length, pieces(head, image.body, tail, budget.pieceBytes), () => {
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', length);
    // The version this body is, as /images/:key names it (the nemesis's checker reads it).
    res.setHeader('ETag', versionEtag(image.version));
  });
}

function* pieces(head: string, body: Buffer, tail: string, pieceBytes: number) {
  yield head;
  yield* base64Pieces(body, pieceBytes);
  yield tail;
}
