import { ServiceUnavailableException } from '@nestjs/common';
import { NotifyController } from '../../../src/frontend/notify.controller';
import type { PoolRouter } from '../../../src/pool/routing/pool-router.service';

/** A router whose reload adopts `stored` (the database), or nothing when it cannot be read. */
function router(routedEpoch: number, stored: number | null) {
  const fake = {
    epoch: routedEpoch,
    reload: async () => {
      if (stored !== null && stored > fake.epoch) fake.epoch = stored;
    },
  };
  return fake as unknown as PoolRouter;
}

describe('POST /api/notify', () => {
  it('answers once this instance routes by the notified epoch', async () => {
    const sut = new NotifyController(router(4, 5));
    await expect(sut.notify({ epoch: 5 })).resolves.toEqual({ success: 'true', epoch: 5 });
  });

  it('answers 503 when it could not adopt it (the notifier then waits out the poll)', async () => {
    const sut = new NotifyController(router(4, null)); // database unreachable
    await expect(sut.notify({ epoch: 5 })).rejects.toBeInstanceOf(ServiceUnavailableException);
  });

  it("accepts group15's body without an epoch", async () => {
    const sut = new NotifyController(router(4, null));
    await expect(
      sut.notify({ node_ip: ['10.0.0.1:5001'], mode: 'grow', change: 1 }),
    ).resolves.toEqual({ success: 'true', epoch: 4 });
  });
});
