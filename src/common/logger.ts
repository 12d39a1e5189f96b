import pino from 'pino';

/** Paths whose values never reach a log line, wherever they appear. */
const REDACT = [
  'password',
  '*.password',
  '*.*.password',
  'input.password',
  'variables.password',
  'variables.input.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'key',
  'apiKey',
  'token',
  '*.token',
];

export type Logger = pino.Logger;

/** Structured JSON logs on stdout (one line per event). */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'whmcs-mikrotik-vpn' },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** A logger that writes nothing: for contexts built without one (CLI commands, tools). */
export const silentLogger: Logger = pino({ level: 'silent' });
