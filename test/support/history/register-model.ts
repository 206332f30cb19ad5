import { Op, PRESENT } from './history';
import { Model } from './wgl';

/**
 * The linearizable model: one register per key. A write sets the value, a delete empties it, a
 * read returns the value, an exists-read says whether there is one. Writes must also take effect
 * in the order of their committed versions: a write of version v cannot follow one of version
 * w >= v (versions rise per key, deletes included), so the order the database chose is the order.
 */
export interface RegisterState {
  value: string | null;
  /** The highest committed version among the writes linearized so far (-1: none). */
  version: number;
}

export const registerModel: Model<RegisterState> = {
  init: () => ({ value: null, version: -1 }),
  step(state: RegisterState, op: Op): RegisterState | undefined {
    switch (op.kind) {
      case 'write':
        if (op.version !== undefined && op.version <= state.version) return undefined;
        return { value: op.value, version: op.version ?? state.version };
      case 'delete':
        return { value: null, version: state.version };
      case 'read':
        return op.value === state.value ? state : undefined;
      case 'exists':
        return (op.value === PRESENT) === (state.value !== null) ? state : undefined;
    }
  },
  key: (state) => `${state.value}@${state.version}`,
  readOnly: (op) => op.kind === 'read' || op.kind === 'exists',
};
