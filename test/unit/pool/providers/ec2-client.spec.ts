import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import * as net from 'node:net';
import { createEc2Client } from '../../../../src/pool/providers/ec2-node-provider.options';

describe('createEc2Client', () => {
  let server: net.Server;
  let sockets: net.Socket[];
  const saved = { ...process.env };

  beforeAll(async () => {
    sockets = [];
    // Accepts connections and never answers: an EC2 endpoint hung mid-call.
    server = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  });
  afterAll(async () => {
    process.env = saved;
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('gives every call a deadline: a hung endpoint fails the call instead of holding it', async () => {
    const { port } = server.address() as net.AddressInfo;
    const client = createEc2Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      requestTimeoutMs: 200,
    });
    const started = Date.now();

    const error = (await client.send(new DescribeInstancesCommand({})).catch((e) => e)) as Error;

    expect(error).toBeInstanceOf(Error);
    expect(error.name).toMatch(/Timeout/);
    // three attempts of 200 ms plus the SDK's backoff between them
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(sockets.length).toBeGreaterThanOrEqual(1);
    client.destroy();
  });
});
