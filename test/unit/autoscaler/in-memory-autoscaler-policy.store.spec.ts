import { policyFromConfig } from '../../../src/autoscaler/autoscaler-policy';
import { InMemoryAutoscalerPolicyStore } from '../../../src/autoscaler/in-memory-autoscaler-policy.store';
import { loadConfig } from '../../../src/config/config-loader';

describe('InMemoryAutoscalerPolicyStore', () => {
  const sut = () => new InMemoryAutoscalerPolicyStore(policyFromConfig(loadConfig().autoscaler));

  it('starts from the configured policy (the course defaults)', async () => {
    expect(await sut().get()).toEqual({
      mode: 'manual',
      maxMiss: 0.8,
      minMiss: 0.2,
      expRatio: 2,
      shrinkRatio: 0.5,
    });
  });

  it('applies a patch and ignores the fields it leaves undefined', async () => {
    const store = sut();
    const changed = await store.set({ mode: 'auto', maxMiss: 0.6, minMiss: undefined });
    expect(changed).toEqual({
      mode: 'auto',
      maxMiss: 0.6,
      minMiss: 0.2,
      expRatio: 2,
      shrinkRatio: 0.5,
    });
    expect(await store.get()).toEqual(changed);
  });

  it.each([
    [{ maxMiss: 1.5 }, /maxMiss must be a number in 0\.\.1, got 1\.5/],
    [{ expRatio: 0.5 }, /expRatio must be a number in 1\.\.8/],
    [{ shrinkRatio: Number.NaN }, /shrinkRatio must be a number in 0\.\.1, got NaN/],
    [{ minMiss: 0.9 }, /minMiss \(0\.9\) must be below maxMiss \(0\.8\)/],
  ])('refuses %j and keeps the policy it had', async (patch, message) => {
    const store = sut();
    await expect(store.set(patch)).rejects.toThrow(message);
    expect((await store.get()).maxMiss).toBe(0.8);
    expect((await store.get()).minMiss).toBe(0.2);
  });

  it('hands out copies, so a caller cannot change the policy behind its back', async () => {
    const store = sut();
    const policy = await store.get();
    policy.mode = 'auto';
    expect((await store.get()).mode).toBe('manual');
  });
});
