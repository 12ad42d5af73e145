import { useEffect, useRef, useState } from 'react';
import type { AdAccount, ProviderId } from '@functions/schema/index.js';
import { api, errorText } from '../api';
import { Alert, Button, Spinner } from '../components/ui';
import { PROVIDER_LABELS, connectingProvider, displayAccountId } from '../integrations/platforms';
import { navigate } from '../route';

type Step =
  | { step: 'exchanging'; providerId: ProviderId }
  | { step: 'picking'; providerId: ProviderId; accounts: AdAccount[] }
  | { step: 'failed'; providerId: ProviderId | null; message: string };

const optionKey = (a: AdAccount) => `${a.managerId ?? 'direct'}:${a.id}`;

/**
 * Where the platform sends the person back: the code is handed to the server (never kept
 * here), then the person picks which ad account to sync.
 */
export function CallbackPage({ onConnected }: { onConnected: (message: string) => void }) {
  const params = new URLSearchParams(window.location.search);
  const state = params.get('state') ?? '';
  const providerId = connectingProvider(state);
  const [step, setStep] = useState<Step>(() => {
    if (!providerId) return { step: 'failed', providerId: null, message: 'This connection link is no longer valid. Start again from your platforms.' };
    if (params.get('error')) return { step: 'failed', providerId, message: `You cancelled connecting ${PROVIDER_LABELS[providerId]}. Nothing was changed.` };
    return { step: 'exchanging', providerId };
  });
  const [picked, setPicked] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const started = useRef(false);
  const code = params.get('code') ?? params.get('auth_code');

  useEffect(() => {
    if (step.step !== 'exchanging' || started.current) return;
    started.current = true;
    if (!code) {
      setStep({ step: 'failed', providerId: step.providerId, message: 'The platform sent no authorization code. Try connecting again.' });
      return;
    }
    api
      .completeConnect({ providerId: step.providerId, state, code })
      .then(({ accounts }) => {
        // The address bar should not keep the code.
        window.history.replaceState(null, '', '/oauth/callback');
        setStep(accounts.length > 0 ? { step: 'picking', providerId: step.providerId, accounts } : { step: 'failed', providerId: step.providerId, message: `This ${PROVIDER_LABELS[step.providerId]} login reaches no ad account. Sign in to the platform with a user who has access to one.` });
        if (accounts.length === 1) setPicked(optionKey(accounts[0]!));
      })
      .catch((error: unknown) => setStep({ step: 'failed', providerId: step.providerId, message: errorText(error) }));
  }, [step, state, code]);

  const finish = async () => {
    if (step.step !== 'picking' || !picked) return;
    const account = step.accounts.find((a) => optionKey(a) === picked)!;
    setSaving(true);
    try {
      const result = await api.selectAccount({ providerId: step.providerId, accountId: account.id, managerId: account.managerId });
      const label = PROVIDER_LABELS[step.providerId];
      onConnected(result.jobType === 'initial-backfill' ? `${label} is connected. Its history is loading now; progress shows on the card.` : `${label} is reconnected. A sync is catching up now.`);
      navigate('/');
    } catch (error) {
      setStep({ step: 'failed', providerId: step.providerId, message: errorText(error) });
    }
  };

  const label = step.providerId ? PROVIDER_LABELS[step.providerId] : 'the platform';
  return (
    <main className="page page-narrow" id="main">
      <section className="card" aria-labelledby="callback-title">
        <h1 id="callback-title">Connect {label}</h1>
        {step.step === 'exchanging' && (
          <p>
            <Spinner label="Finishing the connection" /> Finishing the connection with {label}…
          </p>
        )}
        {step.step === 'picking' && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void finish();
            }}
          >
            <fieldset className="accounts">
              <legend>Choose the ad account to sync</legend>
              {step.accounts.map((a) => (
                <label key={optionKey(a)} className="account-option">
                  <input type="radio" name="account" value={optionKey(a)} checked={picked === optionKey(a)} onChange={() => setPicked(optionKey(a))} />
                  <span>
                    <strong>{a.name || displayAccountId(step.providerId, a.id)}</strong>
                    <span className="muted small">
                      {displayAccountId(step.providerId, a.id)} · {a.currency} · {a.timezone}
                      {a.managerId ? ` · via ${a.managerName ?? 'manager'} (${displayAccountId('google', a.managerId)})` : ''}
                    </span>
                  </span>
                </label>
              ))}
            </fieldset>
            <div className="card-actions">
              <Button type="submit" variant="primary" busy={saving} disabled={!picked}>
                Connect account
              </Button>
              <Button variant="ghost" onClick={() => navigate('/')}>
                Cancel
              </Button>
            </div>
          </form>
        )}
        {step.step === 'failed' && (
          <>
            <Alert tone="error">{step.message}</Alert>
            <div className="card-actions">
              <Button variant="primary" onClick={() => navigate('/')}>
                Back to your platforms
              </Button>
            </div>
          </>
        )}
      </section>
    </main>
  );
}
