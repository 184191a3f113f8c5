/** Whether a path names a Windows named pipe (`\\.\pipe\name`) rather than a Unix socket. */
export function isWindowsPipe(path: string): boolean {
  return /^[\\/]{2}[.?][\\/]pipe[\\/]/i.test(path);
}
