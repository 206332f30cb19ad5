import { describeTwoAppsCutOff } from './two-apps-cut-off.suite';

// The same scenario with the near cache (L1) on in both instances.
describeTwoAppsCutOff(8);
