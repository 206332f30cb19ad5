import { describeTwoAppsCutOff } from './two-apps-cut-off.suite';

describeTwoAppsCutOff(0);
