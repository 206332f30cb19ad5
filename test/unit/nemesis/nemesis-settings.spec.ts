import { CI_SEEDS, nemesisSettings, parseSeeds } from '../../nemesis/nemesis-settings';

describe('nemesis settings', () => {
  it('reads seeds as one, a list or a range', () => {
    expect(parseSeeds('7')).toEqual([7]);
    expect(parseSeeds('1,2,5')).toEqual([1, 2, 5]);
    expect(parseSeeds('3-6')).toEqual([3, 4, 5, 6]);
    expect(() => parseSeeds('a')).toThrow(/seeds must be/);
  });

  it("is CI's bounded form without settings, and asserts the linearizable model too", () => {
    expect(nemesisSettings({})).toMatchObject({ seeds: CI_SEEDS, requireLinearizable: true });
    const asked = nemesisSettings({
      PIXPOOL_NEMESIS_SEEDS: '9',
      PIXPOOL_NEMESIS_SECONDS: '1800',
      PIXPOOL_NEMESIS_LINEARIZABLE: 'true',
      PIXPOOL_NEMESIS_MUTANT: 'skip-lease-wait',
    });
    expect(asked).toMatchObject({
      seeds: [9],
      seconds: 1800,
      requireLinearizable: true,
      mutant: 'skip-lease-wait',
    });
    expect(() => nemesisSettings({ PIXPOOL_NEMESIS_MUTANT: 'nonsense' })).toThrow(
      /unknown test mutant/,
    );
  });
});
