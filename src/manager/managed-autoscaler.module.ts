import { AutoscalerModule } from '../autoscaler/autoscaler.module';
import { PoolModule } from '../pool/pool.module';
import { storedAutoscalerPolicyProvider } from './settings/settings.providers';

/**
 * The auto-scaler with its policy in the database. One object, imported by the app module and the
 * manager alike: Nest identifies a dynamic module by its metadata, so both get the same instance
 * (one scheduler, one decision log).
 */
export const ManagedAutoscalerModule = AutoscalerModule.register({
  imports: [PoolModule],
  providers: [storedAutoscalerPolicyProvider],
});
