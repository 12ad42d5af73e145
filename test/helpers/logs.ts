/**
 * What the functions' logger writes while code runs in this process. firebase-functions'
 * logger prints one JSON object per line through the console, to stdout (and stderr for
 * warnings and errors); capturing both streams sees exactly what Cloud Logging would get.
 */
export interface LogEntry {
  severity: string;
  message: string;
  [field: string]: unknown;
}

export interface LogCapture {
  /** Everything written, as written. */
  text(): string;
  /** The structured entries (lines that are JSON objects with a severity). */
  entries(): LogEntry[];
  stop(): void;
}

export function captureLogs(): LogCapture {
  const chunks: string[] = [];
  const stdout = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  let stopped = false;
  return {
    text: () => chunks.join(''),
    entries: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as LogEntry)
        .filter((entry) => typeof entry.severity === 'string'),
    stop() {
      if (stopped) return;
      stopped = true;
      process.stdout.write = stdout;
      process.stderr.write = stderr;
    },
  };
}

/** The log of a synchronous piece of code. */
export function captureLog(fn: () => void): string {
  const capture = captureLogs();
  try {
    fn();
  } finally {
    capture.stop();
  }
  return capture.text();
}
