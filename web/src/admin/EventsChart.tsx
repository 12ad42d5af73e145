import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { EventRow } from './data';

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** Processed, succeeded and failed jobs per scheduler run, oldest on the left. */
export default function EventsChart({ events }: { events: EventRow[] }) {
  const data = [...events].reverse().map((e) => ({
    at: time.format(e.at.toDate()),
    run: `${e.source}/${e.operation}`,
    processed: e.counts.processed,
    succeeded: e.counts.succeeded,
    failed: e.counts.failed,
  }));
  return (
    <ResponsiveContainer width="100%" height={240}>
      <BarChart data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
        <CartesianGrid stroke="#e5e7eb" vertical={false} />
        <XAxis dataKey="at" tick={{ fontSize: 12, fill: '#6b7280' }} tickLine={false} minTickGap={16} />
        <YAxis allowDecimals={false} width={36} tick={{ fontSize: 12, fill: '#6b7280' }} tickLine={false} axisLine={false} />
        <Tooltip labelFormatter={(label, payload) => `${String(label)} · ${String((payload[0]?.payload as { run?: string } | undefined)?.run ?? '')}`} />
        <Legend wrapperStyle={{ fontSize: 13 }} />
        <Bar dataKey="processed" name="Processed" fill="#6366f1" isAnimationActive={false} />
        <Bar dataKey="succeeded" name="Succeeded" fill="#16a34a" isAnimationActive={false} />
        <Bar dataKey="failed" name="Failed" fill="#dc2626" isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}
