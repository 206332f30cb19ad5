import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** s3rver's built-in account: the only credentials it accepts. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3TestServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  bucket: string;
  region: string;
  /** Variables that point an app process at this server (storage.driver s3 + credentials). */
  env: Record<string, string>;
  /** A client for this server, for tests to build stores with or to look into the bucket. */
  client(): S3Client;
  stop(): Promise<void>;
}

/*
 * s3rver runs in a child process because it signs ListObjectsV2 continuation tokens with DES,
 * which OpenSSL 3 (Node >= 17) only offers through the legacy provider: in-process, any listing
 * longer than one page fails with InternalError (jamhall/s3rver#818). The child also quits when
 * its stdin closes, so a crashed test run leaves no server behind.
 */
const CHILD_SCRIPT = `
const S3rver = require(process.argv[1]);
const server = new S3rver({ address: '127.0.0.1', port: 0, directory: process.argv[2], silent: true });
server.run().then(
  (address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'),
  (err) => { console.error(err); process.exit(1); },
);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * A real S3-protocol server (s3rver) on a free port, storing into a fresh temp folder, with one
 * empty bucket created over the S3 API. stop() ends it and removes the folder.
 */
export async function startS3rver(options: { bucket?: string } = {}): Promise<S3TestServer> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pixpool-s3rver-'));
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '-e', CHILD_SCRIPT, require.resolve('s3rver'), directory],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const port = await portOf(child);
  const endpoint = `http://127.0.0.1:${port}`;
  const bucket = options.bucket ?? 'pixpool-test';
  const region = 'us-east-1';
  const clients: S3Client[] = [];
  const client = (): S3Client => {
    const c = new S3Client({
      region,
      endpoint,
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
    });
    clients.push(c);
    return c;
  };
  await client().send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    bucket,
    region,
    env: {
      PIXPOOL_STORAGE_DRIVER: 's3',
      PIXPOOL_STORAGE_BUCKET: bucket,
      PIXPOOL_STORAGE_REGION: region,
      PIXPOOL_STORAGE_ENDPOINT: endpoint,
      PIXPOOL_STORAGE_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    },
    client,
    async stop() {
      for (const c of clients) c.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

function portOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) =>
      reject(new Error(`s3rver exited (${code}) before listening: ${err}`)),
    );
    child.once('error', reject);
  });
}
