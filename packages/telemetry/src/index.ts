export {
  SHUTDOWN_FLUSH_MS,
  startSpanExport,
  type SpanExport,
  type SpanExportOptions,
} from './span-export.js';
