// Errors the client reports to its user as a message and an exit code, never as a stack trace.
/** A failure the user can act on: the CLI prints the message and exits with exitCode. */
export class ClientError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message)
    this.name = 'ClientError'
  }
}
