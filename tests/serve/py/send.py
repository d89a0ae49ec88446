"""tests/serve/py/send.py: the OpenTelemetry Python SDK (pinned in
requirements.txt) sends logs, spans and metrics to `sluice serve`, as an
application would. Usage:
    python send.py http BASE_URL none|gzip [CA CERT KEY]
    python send.py grpc HOST:PORT none|gzip [CA CERT KEY]
"http" is OTLP/HTTP protobuf, "grpc" OTLP/gRPC (insecure). With CA, CERT
and KEY (PEM files) over TLS, verifying the server against CA and showing
the client certificate CERT (mutual TLS): the HTTP exporters'
certificate_file / client_certificate_file / client_key_file, the gRPC
exporters' ssl_channel_credentials. Emits 5 log
records (2 DEBUG; credentials and an end user to redact), 22 spans (20
GET /healthz, one failed) and 4 metrics (2 the example policies drop),
shuts the providers down (which flushes) and prints one JSON line of the
exporters' results; exits 0 when every export reported success."""
import json
import logging
import sys

from opentelemetry import metrics as metrics_api
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider, LogRecord
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode, TraceFlags

proto, endpoint, comp = sys.argv[1], sys.argv[2], sys.argv[3]
ca, cert, key = sys.argv[4:7] if len(sys.argv) > 6 else (None, None, None)
if proto == "http":
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    c = Compression.Gzip if comp == "gzip" else Compression.NoCompression
    tls = dict(certificate_file=ca, client_certificate_file=cert, client_key_file=key) if ca else {}
    log_exp = OTLPLogExporter(endpoint=endpoint + "/v1/logs", compression=c, timeout=10, **tls)
    span_exp = OTLPSpanExporter(endpoint=endpoint + "/v1/traces", compression=c, timeout=10,
                                **tls)
    metric_exp = OTLPMetricExporter(endpoint=endpoint + "/v1/metrics", compression=c,
                                    timeout=10, **tls)
else:
    from grpc import Compression
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    c = Compression.Gzip if comp == "gzip" else Compression.NoCompression
    kw = dict(endpoint=endpoint, insecure=True, compression=c, timeout=10)
    if ca:
        import grpc

        def pem(path):
            with open(path, "rb") as f:
                return f.read()
        kw.update(insecure=False, credentials=grpc.ssl_channel_credentials(
            root_certificates=pem(ca), private_key=pem(key), certificate_chain=pem(cert)))
    log_exp, span_exp, metric_exp = (OTLPLogExporter(**kw), OTLPSpanExporter(**kw),
                                     OTLPMetricExporter(**kw))

results = []


def wrap(exporter, name):
    orig = exporter.export

    def export(items, *a, **kw):
        r = orig(items, *a, **kw)
        results.append([name, r.name])
        return r
    exporter.export = export
    return exporter


resource = Resource.create({"service.name": "checkout", "deployment.environment": "test"})

lp = LoggerProvider(resource=resource)
lp.add_log_record_processor(BatchLogRecordProcessor(wrap(log_exp, "logs")))
logger = lp.get_logger("sluice-sdk-test", "1.0.0")
recs = [
    ("INFO", SeverityNumber.INFO, "order placed by bob@shop.example",
     {"enduser.id": "alice@example.com", "session.token": "s3cr3t", "order.items": 3}),
    ("DEBUG", SeverityNumber.DEBUG, "cache hit", {}),
    ("INFO", SeverityNumber.INFO, "auth with Bearer abc.DEF-123", {"http.route": "/api/pay"}),
    ("DEBUG", SeverityNumber.DEBUG, "cache miss", {}),
    ("ERROR", SeverityNumber.ERROR, "boom", {"retry": True, "attempt": 3}),
]
for text, num, body, attrs in recs:
    logger.emit(LogRecord(severity_text=text, severity_number=num, body=body,
                          attributes=attrs, resource=resource,
                          # this SDK release cannot encode a record without ids
                          trace_id=0, span_id=0, trace_flags=TraceFlags.DEFAULT))

tp = TracerProvider(resource=resource)
tp.add_span_processor(BatchSpanProcessor(wrap(span_exp, "traces")))
tracer = tp.get_tracer("sluice-sdk-test", "1.0.0")
for i in range(20):
    tracer.start_span("GET /healthz", attributes={"http.route": "/healthz"}).end()
tracer.start_span("GET /api/cart", kind=SpanKind.SERVER,
                  attributes={"http.route": "/api/cart"}).end()
sp = tracer.start_span("POST /api/orders", kind=SpanKind.SERVER,
                       attributes={"http.route": "/api/orders"})
sp.set_status(Status(StatusCode.ERROR, "out of stock"))
sp.end()

reader = PeriodicExportingMetricReader(wrap(metric_exp, "metrics"),
                                       export_interval_millis=60000)
mp = MeterProvider(resource=resource, metric_readers=[reader])
meter = mp.get_meter("sluice-sdk-test", "1.0.0")
meter.create_counter("orders.placed").add(7, {"region": "eu"})
meter.create_histogram("http.server.duration", unit="ms").record(12.5)
meter.create_counter("debug.cache.hits").add(2)
meter.create_observable_gauge(
    "healthcheck.up",
    callbacks=[lambda options: [metrics_api.Observation(1)]])

lp.shutdown()
tp.shutdown()
mp.shutdown()
print(json.dumps(results))
ok = {r[0] for r in results} == {"logs", "traces", "metrics"} and \
    all(r[1] == "SUCCESS" for r in results)
sys.exit(0 if ok else 1)
