import { useMemo } from 'react';
import { Alert, Spinner, useNow } from '../components/ui';
import { useBudgetPlans } from '../live/budgets';
import { useIntegrations, useUserJobs } from '../live/user';
import { MetricsPanel } from '../metrics/MetricsPanel';
import { PlatformCard } from './PlatformCard';
import { PROVIDER_IDS } from './platforms';

/** The signed-in user's platforms, live, and their metrics. */
export function HomePage({ uid, notice }: { uid: string; notice: string | null }) {
  const now = useNow(15_000);
  const integrations = useIntegrations(uid);
  const jobs = useUserJobs(uid);
  // Only a hint on the cards: a plan that cannot be read leaves them as they are.
  const budgets = useBudgetPlans(true);
  const list = useMemo(() => [...integrations.data.values()], [integrations.data]);
  return (
    <main className="page" id="main">
      <div className="page-heading">
        <h1>Your ad platforms</h1>
        <p className="muted">Connect a platform once; the Ads Hub keeps its numbers fresh on the schedule you choose.</p>
      </div>
      {notice && <Alert tone="info">{notice}</Alert>}
      {integrations.error && (
        <Alert tone="error" title="Your platforms could not be loaded">
          {integrations.error.message}
        </Alert>
      )}
      {jobs.error && (
        <Alert tone="error" title="Your sync jobs could not be loaded">
          {jobs.error.message}
        </Alert>
      )}
      {integrations.loading ? (
        <div className="loading-block">
          <Spinner label="Loading your platforms" /> Loading your platforms…
        </div>
      ) : (
        <div className="cards">
          {PROVIDER_IDS.map((p) => (
            <PlatformCard key={p} uid={uid} providerId={p} integration={integrations.data.get(p)} jobs={jobs.data} budget={budgets.data.get(p)} now={now} />
          ))}
        </div>
      )}
      {!integrations.loading && <MetricsPanel uid={uid} integrations={list} jobs={jobs.data} />}
    </main>
  );
}
