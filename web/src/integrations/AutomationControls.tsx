import { useState } from 'react';
import { CADENCES, type Automation, type Cadence, type ProviderId, type TimestampLike } from '@functions/schema/index.js';
import { errorText } from '../api';
import { formatDateTime, formatRelative } from '../components/format';
import { Alert, SelectField, Switch } from '../components/ui';
import { RESTATEMENT_DAYS } from './platforms';

export const CADENCE_LABELS: Record<Cadence, string> = { hourly: 'Every hour', every6h: 'Every 6 hours', daily: 'Daily', weekly: 'Weekly' };
const LOOKBACK_OPTIONS = [1, 3, 7, 14, 28, 30, 60, 90];

/**
 * The switch, cadence and lookback of one integration. `save` is the owner's direct write
 * (checked by the rules) or, in the admin view, the admin endpoint.
 */
export function AutomationControls({
  providerId,
  automation,
  nextRunAt,
  save,
  now,
  disabled,
}: {
  providerId: ProviderId;
  automation: Automation;
  nextRunAt: TimestampLike | null;
  save: (next: Automation) => Promise<void>;
  now: number;
  disabled?: boolean;
}) {
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const change = async (next: Automation) => {
    setSaving(true);
    setError(null);
    try {
      await save(next);
    } catch (e) {
      setError(`Not saved: ${errorText(e)}`);
    } finally {
      setSaving(false);
    }
  };
  const platformDefault = RESTATEMENT_DAYS[providerId];
  return (
    <div className="automation" aria-busy={saving || undefined}>
      <Switch label="Enable automatic sync" checked={automation.enabled} disabled={disabled || saving} onChange={(enabled) => void change({ ...automation, enabled })} />
      <div className="automation-fields">
        <SelectField
          label="Cadence"
          value={automation.cadence}
          disabled={disabled || saving}
          options={CADENCES.map((c) => ({ value: c, label: CADENCE_LABELS[c] }))}
          onChange={(cadence) => void change({ ...automation, cadence })}
        />
        <SelectField
          label="Lookback window"
          value={automation.lookbackDays === null ? 'default' : String(automation.lookbackDays)}
          disabled={disabled || saving}
          options={[{ value: 'default', label: `Platform default (${platformDefault} days)` }, ...LOOKBACK_OPTIONS.map((d) => ({ value: String(d), label: d === 1 ? '1 day' : `${d} days` }))]}
          onChange={(v) => void change({ ...automation, lookbackDays: v === 'default' ? null : Number(v) })}
        />
      </div>
      <p className="next-run" data-testid="next-run">
        {automation.enabled ? (
          nextRunAt ? (
            <>
              Next run: <time dateTime={nextRunAt.toDate().toISOString()}>{formatDateTime(nextRunAt)}</time> ({formatRelative(nextRunAt, now)})
            </>
          ) : (
            'Next run: with the next scheduler pass'
          )
        ) : (
          'Automatic sync is off: data updates only when you press Sync now.'
        )}
      </p>
      {error && <Alert tone="error">{error}</Alert>}
    </div>
  );
}
