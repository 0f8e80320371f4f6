// The browser's WebSocket behind the few calls of the `ws` package that client/relay.ts makes, so the page uses the
// same client library as every other client (the bundler maps `ws` here: package.json's build:web).
type Handler = (arg?: unknown) => void

export default class BrowserSocket extends WebSocket {
  // ws takes options (a handshake timeout) where the browser takes subprotocols: they are dropped.
  constructor(url: string, _opts?: unknown) {
    super(url)
  }

  on(event: 'open' | 'message' | 'error' | 'close', fn: Handler): void {
    if (event === 'message') this.addEventListener('message', e => fn(e.data))
    // The browser says nothing about why a socket failed; the client library keeps this as its last error.
    else if (event === 'error') this.addEventListener('error', () => fn(new Error('connection failed')))
    else this.addEventListener(event, () => fn())
  }

  terminate(): void {
    this.close()
  }
}
