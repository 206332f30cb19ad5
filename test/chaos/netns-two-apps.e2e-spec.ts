import { describeTwoAppsCutOff } from './two-apps-cut-off.suite';

// The near cache off in both instances (it is on by default).
describeTwoAppsCutOff(0);
