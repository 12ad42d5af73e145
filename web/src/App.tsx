import { useState } from 'react';
import { AdminView } from './admin/AdminView';
import { SignIn } from './auth/SignIn';
import { signOutUser, useSession } from './auth/session';
import { Alert, Button, Spinner } from './components/ui';
import { CallbackPage } from './connect/CallbackPage';
import { HomePage } from './integrations/HomePage';
import { navigate, useRoute } from './route';

function NavLink({ to, current, children }: { to: string; current: string; children: string }) {
  return (
    <a
      href={to}
      className="nav-link"
      aria-current={current === to ? 'page' : undefined}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function App() {
  const session = useSession();
  const path = useRoute();
  const [notice, setNotice] = useState<string | null>(null);

  if (session.state === 'loading') {
    return (
      <div className="loading-screen">
        <Spinner label="Loading the Ads Hub" />
      </div>
    );
  }
  if (session.state === 'signed-out') return <SignIn />;

  const admin = session.me?.admin === true;
  let page;
  if (path === '/oauth/callback') page = <CallbackPage onConnected={setNotice} />;
  else if (path === '/admin') {
    page = admin ? (
      <AdminView />
    ) : (
      <main className="page page-narrow" id="main">
        <h1>Admin</h1>
        {session.me === null && !session.error ? (
          <p>
            <Spinner label="Checking access" /> Checking access…
          </p>
        ) : (
          <Alert tone="error" title="No access">
            The admin view is for Ads Hub admins. Ask an admin if you need it.
          </Alert>
        )}
      </main>
    );
  } else page = <HomePage uid={session.user.uid} notice={notice} />;

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <span className="brand">
            <span className="brand-mark" aria-hidden="true" />
            Ads Hub
          </span>
          <nav aria-label="Main">
            <NavLink to="/" current={path}>
              Platforms
            </NavLink>
            {admin && (
              <NavLink to="/admin" current={path}>
                Admin
              </NavLink>
            )}
          </nav>
          <div className="account">
            <span className="muted small account-email">{session.user.email}</span>
            <Button variant="ghost" onClick={() => void signOutUser()}>
              Sign out
            </Button>
          </div>
        </div>
      </header>
      {session.error && (
        <div className="page">
          <Alert tone="warn">Some account details could not be loaded: {session.error}</Alert>
        </div>
      )}
      {page}
    </>
  );
}
