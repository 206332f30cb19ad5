import { isValidObjectName, newObjectName } from '../../../src/storage/object-name';
import { BAD_NAMES } from './blob-store.contract';

describe('newObjectName', () => {
  it('makes names the stores accept', () => {
    for (let i = 0; i < 100; i += 1) expect(isValidObjectName(newObjectName())).toBe(true);
  });

  it('never repeats a name', () => {
    const names = new Set(Array.from({ length: 10000 }, () => newObjectName()));
    expect(names.size).toBe(10000);
  });

  it('rejects paths, dots, upper case and odd lengths', () => {
    for (const bad of BAD_NAMES) expect(isValidObjectName(bad)).toBe(false);
  });
});
