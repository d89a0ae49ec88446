// tests/serve/js/send.js: the OpenTelemetry JS SDK (pinned in
// package-lock.json) sends logs, spans and metrics to `sluice serve`, as an
// application would. Usage:
//   node send.js BASE_URL json|proto gzip|none
// "json" uses the -otlp-http exporters (OTLP/HTTP JSON), "proto" the
// -otlp-proto ones (OTLP/HTTP protobuf). Emits 5 log records (2 DEBUG, one
// with enduser.id and session.token), 3 spans (one GET /healthz) and 5
// metrics (a counter, a histogram, two gauges, a debug counter), shuts the
// providers down (which flushes) and prints one JSON line: what each
// exporter was handed (the records as the SDK sent them) and each export's
// result. Exits 0 when every export reported success.
'use strict';
const { logs, SeverityNumber } = require('@opentelemetry/api');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { TracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace');
const { MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');
const { defaultResource, resourceFromAttributes } = require('@opentelemetry/resources');

const base = process.argv[2];
const encoding = process.argv[3] === 'proto' ? 'proto' : 'http';
const compression = process.argv[4] === 'gzip' ? 'gzip' : 'none';
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-' + encoding);
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-' + encoding);
const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-' + encoding);

const results = [];
const sent = { logs: [], spans: [], metrics: [] };

// Records what the SDK hands the exporter, and the export's outcome.
function wrap(exporter, name, record) {
  const orig = exporter.export.bind(exporter);
  exporter.export = (items, cb) => {
    record(items);
    orig(items, (r) => {
      results.push([name, r.code, r.error ? String(r.error) : '']);
      cb(r);
    });
  };
  return exporter;
}

function plain(attrs) {
  const out = {};
  for (const [k, v] of Object.entries(attrs || {})) {
    out[k] = v;
  }
  return out;
}

async function main() {
  const resource = defaultResource().merge(resourceFromAttributes({ 'service.name': 'checkout' }));
  const opts = (path) => ({ url: base + path, compression, timeoutMillis: 10000 });

  const logExporter = wrap(new OTLPLogExporter(opts('/v1/logs')), 'logs', (recs) => {
    for (const r of recs) {
      sent.logs.push({ body: r.body, severityText: r.severityText,
        severityNumber: r.severityNumber, attributes: plain(r.attributes) });
    }
  });
  const lp = new LoggerProvider({ resource,
    processors: [new BatchLogRecordProcessor({ exporter: logExporter })] });
  const logger = lp.getLogger('sluice-sdk-test', '1.0.0');
  const recs = [
    ['INFO', SeverityNumber.INFO, 'order placed',
      { 'enduser.id': 'alice@example.com', 'session.token': 's3cr3t', 'order.items': 3 }],
    ['DEBUG', SeverityNumber.DEBUG, 'cache hit', {}],
    ['INFO', SeverityNumber.INFO, 'payment ok', { 'http.route': '/api/pay' }],
    ['DEBUG', SeverityNumber.DEBUG, 'cache miss', {}],
    ['ERROR', SeverityNumber.ERROR, 'boom', { retry: true, attempt: 3 }],
  ];
  for (const [text, num, body, attributes] of recs) {
    logger.emit({ severityText: text, severityNumber: num, body, attributes });
  }

  const spanExporter = wrap(new OTLPTraceExporter(opts('/v1/traces')), 'traces', (spans) => {
    for (const sp of spans) {
      const ctx = sp.spanContext();
      sent.spans.push({ name: sp.name, traceId: ctx.traceId, spanId: ctx.spanId,
        kind: sp.kind, attributes: plain(sp.attributes) });
    }
  });
  const tp = new TracerProvider({ resource,
    spanProcessors: [new BatchSpanProcessor({ exporter: spanExporter })] });
  const tracer = tp.getTracer('sluice-sdk-test', '1.0.0');
  for (const name of ['GET /healthz', 'GET /api/cart', 'POST /api/orders']) {
    tracer.startSpan(name, { attributes: { 'http.route': name.split(' ')[1] } }).end();
  }

  const metricExporter = wrap(new OTLPMetricExporter(opts('/v1/metrics')), 'metrics', (rm) => {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        sent.metrics.push({ name: m.descriptor.name, unit: m.descriptor.unit,
          dataPointType: m.dataPointType,
          points: m.dataPoints.map((p) => ({ attributes: plain(p.attributes),
            value: p.value })) });
      }
    }
  });
  const mp = new MeterProvider({ resource,
    readers: [new PeriodicExportingMetricReader({ exporter: metricExporter,
      exportIntervalMillis: 60000 })] });
  const meter = mp.getMeter('sluice-sdk-test', '1.0.0');
  meter.createCounter('orders.placed').add(7, { region: 'eu' });
  meter.createHistogram('http.server.duration', { unit: 'ms' }).record(12.5, { 'http.route': '/api/cart' });
  meter.createGauge('queue.depth').record(42, { queue: 'orders' });
  meter.createGauge('healthcheck.up').record(1);
  meter.createCounter('debug.cache.hits').add(3);

  await lp.shutdown();
  await tp.shutdown();
  await mp.shutdown();
  console.log(JSON.stringify({ results, sent }));
  const signals = new Set(results.map((r) => r[0]));
  process.exit(signals.size === 3 && results.every((r) => r[1] === 0) ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(2); });
