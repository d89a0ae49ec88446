"""tests/serve/py/receive.py: a forwarding target for `sluice serve --forward`
that decodes what it receives with an independent implementation: OTLP
protobuf bodies through the generated classes of opentelemetry-proto (the
pinned PyPI package the SDK uses) and Google's protobuf runtime, JSON bodies
with the json module. Usage:
    python receive.py OUT_FILE
Listens on 127.0.0.1 (port 0), prints "port N" once listening, and appends
one OTLP JSON line per request to OUT_FILE (protobuf converted with
json_format, trace and span ids as hex, as OTLP JSON writes them), then
answers 200 with an empty Export*ServiceResponse in the request's
encoding. Runs until killed."""
import base64
import gzip
import http.server
import json
import sys
import threading

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

REQUESTS = {
    "/v1/logs": (logs_service_pb2.ExportLogsServiceRequest,
                 logs_service_pb2.ExportLogsServiceResponse),
    "/v1/traces": (trace_service_pb2.ExportTraceServiceRequest,
                   trace_service_pb2.ExportTraceServiceResponse),
    "/v1/metrics": (metrics_service_pb2.ExportMetricsServiceRequest,
                    metrics_service_pb2.ExportMetricsServiceResponse),
}
IDS = ("traceId", "spanId", "parentSpanId")
LOCK = threading.Lock()
OUT = open(sys.argv[1], "a")


def hex_ids(v):
    """json_format writes bytes as base64; OTLP JSON writes ids as hex."""
    if isinstance(v, dict):
        return {k: (base64.b64decode(x).hex() if k in IDS and isinstance(x, str)
                    else hex_ids(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [hex_ids(x) for x in v]
    return v


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        kinds = REQUESTS.get(self.path)
        proto = self.headers.get("Content-Type") == "application/x-protobuf"
        if not kinds:
            self.send_error(404)
            return
        if proto:
            msg = kinds[0]()
            msg.ParseFromString(data)  # raises on a malformed body: 500
            doc = hex_ids(json_format.MessageToDict(msg, use_integers_for_enums=True))
            body = kinds[1]().SerializeToString()
        else:
            doc = json.loads(data)
            body = b"{}"
        with LOCK:
            OUT.write(json.dumps(doc) + "\n")
            OUT.flush()
        self.send_response(200)
        self.send_header("Content-Type", self.headers.get("Content-Type"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("port %d" % srv.server_address[1], flush=True)
srv.serve_forever()
