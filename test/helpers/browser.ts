// Debian's Chromium driven by puppeteer-core, for the market page's tests (.ci/run installs the package).
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { packageRoot } from '../../relay/package-root.js'
import type { Teardown } from './client.js'

/** The system browser's path, or undefined when this machine has none (the tests then skip, saying why). */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(p =>
  existsSync(p),
)

/** A headless browser closed at teardown; `args` are added to Chromium's command line. */
export async function launchBrowser(t: Teardown, executablePath: string, args: string[] = []): Promise<Browser> {
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', ...args],
  })
  t.teardown(() => browser.close())
  return browser
}

/** Saves full-page screenshots into artifacts/screenshots (git-ignored), by name. */
export function screenshots(page: Page): (name: string) => Promise<unknown> {
  const dir = join(packageRoot(), 'artifacts', 'screenshots')
  mkdirSync(dir, { recursive: true })
  return name => page.screenshot({ path: join(dir, `${name}.png`), fullPage: true })
}

/** The text of the first element `selector` matches. */
export const textOf = (page: Page, selector: string) => page.$eval(selector, n => n.textContent ?? '')
