/** An image as the read path hands it out: the bytes and what identifies this upload of the key. */
export interface StoredImage {
  key: string;
  body: Buffer;
  contentType: string;
  /** Rises with every upload of the key; also the ETag. */
  version: number;
  /** Where this read found it: a cache node, or storage (a miss, or no node to ask). */
  source?: 'cache' | 'storage';
}
