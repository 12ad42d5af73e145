import { useEffect, useId, useState } from 'react';
import { ALERT_KINDS, ALERT_KIND_LABELS, type AlertKind, type AlertOverride, type AlertSettingsResponse, type ProviderId } from '@functions/schema/index.js';
import { api, errorText } from '../api';
import { Alert, Button, SelectField } from '../components/ui';
import { PROVIDER_IDS, PROVIDER_LABELS } from '../integrations/platforms';

const KIND_OPTIONS = [{ value: '', label: 'Every kind' }, ...ALERT_KINDS.map((k) => ({ value: k, label: ALERT_KIND_LABELS[k] }))];
const PLATFORM_OPTIONS = [{ value: '', label: 'Every platform' }, ...PROVIDER_IDS.map((p) => ({ value: p, label: PROVIDER_LABELS[p] }))];

/** A whole number, or null for an empty field (the configured default). */
const minutesOf = (text: string) => (text.trim() === '' ? null : Number(text));

function OverrideRow({ override, index, onChange, onRemove }: { override: AlertOverride; index: number; onChange: (o: AlertOverride) => void; onRemove: () => void }) {
  const id = useId();
  return (
    <li className="override" data-testid={`alert-override-${index}`}>
      <SelectField label="Kind" value={override.kind ?? ''} options={KIND_OPTIONS} onChange={(v) => onChange({ ...override, kind: (v || null) as AlertKind | null })} />
      <SelectField label="Platform" value={override.providerId ?? ''} options={PLATFORM_OPTIONS} onChange={(v) => onChange({ ...override, providerId: (v || null) as ProviderId | null })} />
      <label className="field field-inline" htmlFor={`${id}-threshold`}>
        <span>Alert at</span>
        <input id={`${id}-threshold`} type="number" min={1} value={override.threshold} onChange={(e) => onChange({ ...override, threshold: Number(e.target.value) })} />
      </label>
      <label className="checkbox" htmlFor={`${id}-muted`}>
        <input id={`${id}-muted`} type="checkbox" checked={override.muted} onChange={(e) => onChange({ ...override, muted: e.target.checked })} />
        <span>Muted</span>
      </label>
      <Button onClick={onRemove} aria-label={`Remove override ${index + 1}`}>
        Remove
      </Button>
    </li>
  );
}

/** The alert thresholds per platform and kind, and the throttle: saved through the admin endpoint, which validates them. */
export function AlertSettings() {
  const id = useId();
  const [loaded, setLoaded] = useState<AlertSettingsResponse | null>(null);
  const [throttle, setThrottle] = useState('');
  const [backlog, setBacklog] = useState('');
  const [overrides, setOverrides] = useState<AlertOverride[]>([]);
  const [result, setResult] = useState<{ tone: 'info' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const show = (settings: AlertSettingsResponse) => {
    setLoaded(settings);
    setThrottle(settings.stored.throttleMinutes?.toString() ?? '');
    setBacklog(settings.stored.backlogMinutes?.toString() ?? '');
    setOverrides(settings.stored.overrides);
  };
  useEffect(() => {
    api.admin.alertSettings().then(show, (e: unknown) => setResult({ tone: 'error', text: errorText(e) }));
  }, []);
  const save = async () => {
    setBusy(true);
    setResult(null);
    try {
      show(await api.admin.saveAlertSettings({ throttleMinutes: minutesOf(throttle), backlogMinutes: minutesOf(backlog), overrides }));
      setResult({ tone: 'info', text: 'Saved: the next runs judge alerts with these settings.' });
    } catch (e) {
      setResult({ tone: 'error', text: errorText(e) });
    } finally {
      setBusy(false);
    }
  };
  const defaults = loaded?.defaults;
  return (
    <section className="card" aria-labelledby={`${id}-title`} data-testid="alert-settings">
      <h2 id={`${id}-title`}>Alerts</h2>
      {defaults && (
        <p className="muted small">
          {defaults.webhookConfigured ? 'Posted to the configured Slack webhook.' : 'No webhook is configured (SCHEDULER_ALERT_WEBHOOK_URL): nothing is posted.'} Failures in one run alert at{' '}
          {defaults.failureThreshold}, every other kind at its first occurrence, unless an override below says otherwise (the most specific one wins).
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div className="filters">
          <label className="field field-inline" htmlFor={`${id}-throttle`}>
            <span>Minutes between alerts of one kind</span>
            <input id={`${id}-throttle`} type="number" min={1} placeholder={String(defaults?.throttleMinutes ?? '')} value={throttle} onChange={(e) => setThrottle(e.target.value)} />
          </label>
          <label className="field field-inline" htmlFor={`${id}-backlog`}>
            <span>Backlog after (minutes)</span>
            <input id={`${id}-backlog`} type="number" min={5} placeholder={String(defaults?.backlogMinutes ?? '')} value={backlog} onChange={(e) => setBacklog(e.target.value)} />
          </label>
        </div>
        <h3>Overrides</h3>
        {overrides.length === 0 && <p className="muted">None: the defaults apply.</p>}
        <ul className="plain-list overrides">
          {overrides.map((o, i) => (
            <OverrideRow
              key={i}
              index={i}
              override={o}
              onChange={(changed) => setOverrides(overrides.map((x, j) => (j === i ? changed : x)))}
              onRemove={() => setOverrides(overrides.filter((_, j) => j !== i))}
            />
          ))}
        </ul>
        <div className="inline-form">
          <Button onClick={() => setOverrides([...overrides, { kind: 'run-failures', providerId: null, threshold: defaults?.failureThreshold ?? 3, muted: false }])}>Add override</Button>
          <Button type="submit" variant="primary" busy={busy}>
            Save alert settings
          </Button>
          {result && <Alert tone={result.tone}>{result.text}</Alert>}
        </div>
      </form>
    </section>
  );
}
