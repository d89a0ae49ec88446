// tests/serve/js/send.js: the OpenTelemetry JS SDK (pinned in
// package-lock.json) sends logs and spans over OTLP/HTTP JSON to
// `sluice serve`, as an application would. Usage:
//   node send.js BASE_URL gzip|none
// Emits 5 log records (2 DEBUG, one with enduser.id) and 3 spans (one
// GET /healthz), flushes, and exits 0 when both exporters reported
// success.
'use strict';
const { logs, SeverityNumber, trace } = require('@opentelemetry/api');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { TracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-http');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');

const base = process.argv[2];
const compression = process.argv[3] === 'gzip' ? 'gzip' : 'none';

function wrap(exporter, name, results) {
  const orig = exporter.export.bind(exporter);
  exporter.export = (items, cb) => orig(items, (r) => {
    results.push([name, r.code, r.error ? String(r.error) : '']);
    cb(r);
  });
  return exporter;
}

async function main() {
  const results = [];
  const logExporter = wrap(new OTLPLogExporter({ url: base + '/v1/logs', compression }),
    'logs', results);
  const lp = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter: logExporter })] });
  const logger = lp.getLogger('sluice-sdk-test', '1.0.0');
  const recs = [
    ['INFO', SeverityNumber.INFO, 'order placed', { 'enduser.id': 'alice@example.com' }],
    ['DEBUG', SeverityNumber.DEBUG, 'cache hit', {}],
    ['INFO', SeverityNumber.INFO, 'payment ok', { 'http.route': '/api/pay' }],
    ['DEBUG', SeverityNumber.DEBUG, 'cache miss', {}],
    ['ERROR', SeverityNumber.ERROR, 'boom', { retry: true, attempt: 3 }],
  ];
  for (const [text, num, body, attributes] of recs) {
    logger.emit({ severityText: text, severityNumber: num, body, attributes });
  }
  const spanExporter = wrap(new OTLPTraceExporter({ url: base + '/v1/traces', compression }),
    'traces', results);
  const tp = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: spanExporter })] });
  const tracer = tp.getTracer('sluice-sdk-test', '1.0.0');
  for (const name of ['GET /healthz', 'GET /api/cart', 'POST /api/orders']) {
    tracer.startSpan(name, { attributes: { 'http.route': name.split(' ')[1] } }).end();
  }
  await lp.shutdown();
  await tp.shutdown();
  console.log(JSON.stringify(results));
  process.exit(results.length >= 2 && results.every((r) => r[1] === 0) ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(2); });
