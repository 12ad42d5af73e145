import { Suspense, lazy, useEffect, useId, useState } from 'react';
import type { Job, ProviderId } from '@functions/schema/index.js';
import { formatCount, formatMoney } from '../components/format';
import { Alert, SelectField, Spinner, TableScroll } from '../components/ui';
import { PROVIDER_COLORS, PROVIDER_IDS, PROVIDER_LABELS } from '../integrations/platforms';
import type { Integration } from '../live/user';
import { usePlatformMetrics, type PlatformMetrics } from './data';
import type { MetricKey } from './DailyChart';

const DailyChart = lazy(() => import('./DailyChart'));

const RANGES = [30, 90, 365] as const;
type Range = (typeof RANGES)[number];

function windowOf(days: number, now = new Date()): { start: string; end: string } {
  const end = now.toISOString().slice(0, 10);
  const start = new Date(Date.parse(`${end}T00:00:00Z`) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  return { start, end };
}

function Tiles({ metrics, selected, onSelect }: { metrics: PlatformMetrics; selected: MetricKey; onSelect: (m: MetricKey) => void }) {
  const tiles: { key: MetricKey; label: string; value: string }[] = [
    { key: 'spend', label: 'Spend', value: formatMoney(metrics.totals.spend, metrics.currency) },
    { key: 'impressions', label: 'Impressions', value: formatCount(metrics.totals.impressions) },
    { key: 'clicks', label: 'Clicks', value: formatCount(metrics.totals.clicks) },
  ];
  return (
    <div className="tiles" role="group" aria-label="Metric shown in the chart">
      {tiles.map((t) => (
        <button key={t.key} type="button" className="tile" aria-pressed={selected === t.key} onClick={() => onSelect(t.key)}>
          <span className="tile-label">{t.label}</span>
          <span className="tile-value" data-testid={`total-${t.key}`}>
            {t.value}
          </span>
        </button>
      ))}
    </div>
  );
}

function CampaignTable({ metrics }: { metrics: PlatformMetrics }) {
  const ctr = (clicks: number, impressions: number) => (impressions > 0 ? `${((clicks / impressions) * 100).toFixed(2)} %` : '—');
  return (
    <TableScroll label="Campaigns">
      <table className="table" data-testid="campaign-table">
        <caption className="visually-hidden">Totals by campaign</caption>
        <thead>
          <tr>
            <th scope="col">Campaign</th>
            <th scope="col" className="num">Spend</th>
            <th scope="col" className="num">Impressions</th>
            <th scope="col" className="num">Clicks</th>
            <th scope="col" className="num">CTR</th>
            <th scope="col" className="num">Conversions</th>
          </tr>
        </thead>
        <tbody>
          {metrics.campaigns.map((c) => (
            <tr key={c.campaignId}>
              <th scope="row">{c.campaignName || c.campaignId}</th>
              <td className="num">{formatMoney(c.spend, metrics.currency)}</td>
              <td className="num">{formatCount(c.impressions)}</td>
              <td className="num">{formatCount(c.clicks)}</td>
              <td className="num">{ctr(c.clicks, c.impressions)}</td>
              <td className="num">{formatCount(Math.round(c.conversions))}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            <td className="num">{formatMoney(metrics.totals.spend, metrics.currency)}</td>
            <td className="num">{formatCount(metrics.totals.impressions)}</td>
            <td className="num">{formatCount(metrics.totals.clicks)}</td>
            <td className="num">{ctr(metrics.totals.clicks, metrics.totals.impressions)}</td>
            <td className="num">{formatCount(Math.round(metrics.totals.conversions))}</td>
          </tr>
        </tfoot>
      </table>
    </TableScroll>
  );
}

/** Metrics of the connected platforms: one at a time, chosen by tab, over a chosen window. */
export function MetricsPanel({ uid, integrations, jobs }: { uid: string; integrations: Integration[]; jobs: Job[] }) {
  const id = useId();
  const withAccounts = integrations.filter((i) => i.accountId && i.status !== 'disconnected').sort((a, b) => PROVIDER_IDS.indexOf(a.providerId) - PROVIDER_IDS.indexOf(b.providerId));
  const [providerId, setProviderId] = useState<ProviderId | null>(null);
  const [range, setRange] = useState<Range>(90);
  const [metric, setMetric] = useState<MetricKey>('spend');
  const current = withAccounts.find((i) => i.providerId === providerId) ?? withAccounts[0] ?? null;
  useEffect(() => {
    if (current && current.providerId !== providerId) setProviderId(current.providerId);
  }, [current, providerId]);
  const span = windowOf(range);
  // New rows land when a sync finishes or a backfill completes a part: read again then.
  const version = current
    ? `${current.lastSyncedAt?.toMillis() ?? 0}|${jobs
        .filter((j) => j.providerId === current.providerId)
        .map((j) => `${j.id}:${j.status}:${j.progress?.done ?? 0}`)
        .join(',')}`
    : '';
  const live = usePlatformMetrics(current ? { uid, providerId: current.providerId, accountId: current.accountId!, ...span } : null, version);

  return (
    <section className="card metrics" aria-labelledby={`${id}-title`}>
      <header className="metrics-header">
        <h2 id={`${id}-title`}>Metrics</h2>
        <SelectField label="Period" value={String(range)} options={RANGES.map((r) => ({ value: String(r), label: `Last ${r} days` }))} onChange={(v) => setRange(Number(v) as Range)} />
      </header>
      {withAccounts.length === 0 ? (
        <p className="empty">Connect a platform to see its spend, impressions and clicks here.</p>
      ) : (
        <>
          <div className="tabs" role="tablist" aria-label="Platform">
            {withAccounts.map((i) => (
              <button
                key={i.providerId}
                type="button"
                role="tab"
                id={`${id}-tab-${i.providerId}`}
                aria-selected={i.providerId === current?.providerId}
                aria-controls={`${id}-panel`}
                tabIndex={i.providerId === current?.providerId ? 0 : -1}
                onClick={() => setProviderId(i.providerId)}
                onKeyDown={(e) => {
                  if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
                  const at = withAccounts.findIndex((x) => x.providerId === i.providerId);
                  const next = withAccounts[(at + (e.key === 'ArrowRight' ? 1 : withAccounts.length - 1)) % withAccounts.length]!;
                  setProviderId(next.providerId);
                  document.getElementById(`${id}-tab-${next.providerId}`)?.focus();
                }}
              >
                {PROVIDER_LABELS[i.providerId]}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`${id}-panel`} aria-labelledby={current ? `${id}-tab-${current.providerId}` : undefined} data-testid="metrics-panel" data-state={live.loading ? 'loading' : live.error ? 'error' : live.data.daysWithData > 0 ? 'data' : 'empty'}>
            {live.error ? (
              <Alert tone="error" title="Metrics could not be loaded">
                {live.error.message}
              </Alert>
            ) : live.loading ? (
              <div className="chart-placeholder">
                <Spinner label="Loading metrics" /> Loading metrics…
              </div>
            ) : live.data.daysWithData === 0 ? (
              <p className="empty chart-placeholder">No data for the last {range} days yet. It appears here as soon as a sync brings some in.</p>
            ) : (
              <>
                <Tiles metrics={live.data} selected={metric} onSelect={setMetric} />
                <figure className="chart" aria-label={`Daily ${metric} for ${PROVIDER_LABELS[current!.providerId]}, last ${range} days`} data-testid="metrics-chart" data-points={live.data.daysWithData}>
                  <Suspense fallback={<div className="chart-placeholder">Loading chart…</div>}>
                    <DailyChart daily={live.data.daily} metric={metric} currency={live.data.currency} color={PROVIDER_COLORS[current!.providerId]} />
                  </Suspense>
                </figure>
                <CampaignTable metrics={live.data} />
              </>
            )}
          </div>
        </>
      )}
    </section>
  );
}
