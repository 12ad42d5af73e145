import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from '../../scripts/emulators.js';

/** Debian's Chromium, driven by playwright-core (which never downloads a browser). */
export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const ORIGIN = process.env.E2E_HOSTING_ORIGIN ?? 'http://127.0.0.1:5010';
export const SCREENSHOTS = join(ROOT, 'docs/screenshots');

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 375, height: 812 };

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

export async function newPage(browser: Browser, viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC' });
  // tsx keeps function names with a __name() helper, which page.evaluate's copies call.
  await context.addInitScript({ content: 'window.__name = (fn) => fn;' });
  const page = await context.newPage();
  // Generous: a loaded machine slows the emulators; every wait is for a state, never a sleep.
  page.setDefaultTimeout(120_000);
  return { context, page };
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto(ORIGIN);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your ad platforms' }).waitFor();
}

/**
 * Writes docs/screenshots/<name>.png only when E2E_SCREENSHOTS=1: the pictures are tracked,
 * and an ordinary npm test must not rewrite them (they differ in pixels on every run).
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.E2E_SCREENSHOTS !== '1') return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  // The top bar is sticky: from the top, it sits where it belongs in a full-page picture.
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/** Controls without an accessible name: a button, field, switch or tab a screen reader could not announce. */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const controls = [...document.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [role="switch"], [role="tab"]')];
    const nameOf = (el: HTMLElement): string => {
      const labelledBy = el.getAttribute('aria-labelledby');
      if (labelledBy) return labelledBy.split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
      const aria = el.getAttribute('aria-label');
      if (aria) return aria;
      if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement) {
        if (el.type === 'hidden') return 'hidden';
        const labels = [...(el.labels ?? [])].map((l) => l.textContent ?? '').join(' ');
        if (labels.trim()) return labels;
        return el.getAttribute('title') ?? '';
      }
      return el.textContent ?? '';
    };
    return controls.filter((el) => el.offsetParent !== null && nameOf(el).trim() === '').map((el) => el.outerHTML.slice(0, 120));
  });
}

/**
 * Tabs through the whole page and returns the visible, enabled controls that never got
 * focus. Tab lists are one stop (arrow keys move inside), as the ARIA pattern says.
 */
export async function unreachableByKeyboard(page: Page): Promise<string[]> {
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    let n = 0;
    for (const el of document.querySelectorAll<HTMLElement>('button, input, select, a[href], [role="switch"], [tabindex="0"]')) el.dataset.kbd = String(n++);
  });
  const reached = new Set<string>();
  let first: string | null = null;
  for (let i = 0; i < 400; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.kbd ?? null);
    if (id === null) continue;
    // Back at the first control: the whole page has been walked.
    if (id === first) break;
    first ??= id;
    reached.add(id);
  }
  return page.evaluate((seen) => {
    const set = new Set(seen);
    return [...document.querySelectorAll<HTMLElement>('[data-kbd]')]
      .filter((el) => el.offsetParent !== null && !(el as HTMLButtonElement).disabled && el.getAttribute('role') !== 'tab' && !set.has(el.dataset.kbd!))
      .map((el) => el.outerHTML.slice(0, 120));
  }, [...reached]);
}

/** When the page scrolls sideways (content wider than a phone), the first elements that stick out past the right edge. */
export async function overflowingElements(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    if (document.documentElement.scrollWidth <= window.innerWidth + 1) return [];
    return [...document.querySelectorAll<HTMLElement>('body *')]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} right=${Math.round(el.getBoundingClientRect().right)}`);
  });
}
