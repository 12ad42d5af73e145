import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatCompact, formatCount, formatMoney } from '../components/format';
import type { DailyPoint } from './data';

export type MetricKey = 'spend' | 'impressions' | 'clicks';

const shortDate = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const dayLabel = (date: string) => shortDate.format(new Date(`${date}T00:00:00Z`));

/** The daily series of one metric. Loaded on demand: the chart library is the app's largest part. */
export default function DailyChart({ daily, metric, currency, color }: { daily: DailyPoint[]; metric: MetricKey; currency: string | null; color: string }) {
  const format = (n: number) => (metric === 'spend' ? formatMoney(n, currency) : formatCount(n));
  return (
    <ResponsiveContainer width="100%" height={260}>
      <AreaChart data={daily} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
        <defs>
          <linearGradient id={`fill-${metric}`} x1="0" y1="0" x2="0" y2="1">
            <stop offset="0%" stopColor={color} stopOpacity={0.35} />
            <stop offset="100%" stopColor={color} stopOpacity={0.02} />
          </linearGradient>
        </defs>
        <CartesianGrid stroke="#e5e7eb" vertical={false} />
        <XAxis dataKey="date" tickFormatter={dayLabel} minTickGap={28} tick={{ fontSize: 12, fill: '#6b7280' }} tickLine={false} axisLine={{ stroke: '#d1d5db' }} />
        <YAxis width={56} tickFormatter={(n: number) => (metric === 'spend' && currency ? formatMoney(n, currency).replace(/\.00$/, '') : formatCompact(n))} tick={{ fontSize: 12, fill: '#6b7280' }} tickLine={false} axisLine={false} />
        <Tooltip labelFormatter={(d) => dayLabel(String(d))} formatter={(v) => [format(Number(v)), metric[0]!.toUpperCase() + metric.slice(1)]} />
        <Area type="monotone" dataKey={metric} stroke={color} strokeWidth={2} fill={`url(#fill-${metric})`} isAnimationActive={false} dot={false} />
      </AreaChart>
    </ResponsiveContainer>
  );
}
