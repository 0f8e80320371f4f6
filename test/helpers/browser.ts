// The market page's browser tests: Debian's Chromium (.ci/run installs it) driven by puppeteer-core, one headless
// page closed at teardown, its script errors collected, and screenshots saved to artifacts/screenshots
// (git-ignored).
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import puppeteer, { type Page } from 'puppeteer-core'
import { packageRoot } from '../../relay/package-root.js'
import type { Teardown } from './client.js'

/** The machine's Chromium, or undefined: the browser tests then plan nothing, saying why (NO_CHROMIUM). */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(p =>
  existsSync(p),
)
export const NO_CHROMIUM = 'no Chromium on this machine (.ci/run installs Debian’s chromium)'

const SHOTS = join(packageRoot(), 'artifacts', 'screenshots')

/**
 * A page in a new headless Chromium (closed at teardown), the errors its scripts throw, and `shot(name)`; `args` are
 * added to Chromium's command line.
 */
export async function openPage(t: Teardown, executablePath: string, args: readonly string[] = []) {
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', ...args],
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', err => errors.push(String(err)))
  mkdirSync(SHOTS, { recursive: true })
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
  return { page, errors, shot }
}

/** The text of the first element `selector` matches. */
export const text = (p: Page, selector: string) => p.$eval(selector, n => n.textContent ?? '')
