"""Protobuf and gRPC for the test sync server (sync_server.py).

- ProtoCodec: tero.policy.v1 SyncRequest / SyncResponse through Python's
  protobuf package (Debian python3-protobuf) with code protoc generates at
  test time from ../shared/conformance/policy/proto/tero/policy/v1 (the
  google.api.http annotation, whose proto is not copied, is stripped; the
  OTLP common.proto comes from ../shared/conformance/otlp). An independent
  implementation: what sluice sends is parsed by it, what sluice reads was
  serialised by it. SyncServer(codec=...) then also answers
  application/x-protobuf bodies. Policy files written with the policy-file
  shorthands (short enum names, attribute paths as strings, bare typed
  literals, enabled left out = true) are first shaped as proto-JSON, as
  upstream's server does by parsing them with policy-go before encoding.
- GrpcSyncServer: tero.policy.v1.PolicyService/Sync over h2c (prior
  knowledge) with Debian's python3-h2, the same SyncServer behind it (its
  record(), stats(), failing and error_message): requests are recorded as
  the proto-JSON dicts MessageToDict gives, so the HTTP checks apply
  unchanged. failing answers grpc-status 14 (UNAVAILABLE).

Both need /usr/bin/python3 (the pyenv python3 has neither package):
need_debian_python() re-runs the calling script with it."""
import glob, gzip, os, re, shutil, socket, struct, subprocess, sys, threading
from urllib.parse import quote

MODULES = ("google.protobuf", "h2")


def need_debian_python():
    """Re-run this process with /usr/bin/python3 when the running python
    lacks python3-protobuf or python3-h2."""
    try:
        import google.protobuf  # noqa: F401
        import h2  # noqa: F401
    except ImportError:
        if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
        raise


def generate(shared, work):
    """protoc the policy protos into work/gen; return policy_pb2."""
    src = os.path.join(shared, "conformance", "policy", "proto", "tero", "policy", "v1")
    otlp = os.path.join(shared, "conformance", "otlp", "opentelemetry-proto", "proto")
    root = os.path.join(work, "proto")
    dst = os.path.join(root, "tero", "policy", "v1")
    os.makedirs(dst, exist_ok=True)
    for f in glob.glob(os.path.join(src, "*.proto")):
        shutil.copy(f, dst)
    p = os.path.join(dst, "policy.proto")
    with open(p) as f:
        text = f.read()
    text = text.replace('import "google/api/annotations.proto";\n', "")
    text = re.sub(r"\{\s*option \(google\.api\.http\) = \{[^}]*\};\s*\}", ";", text)
    with open(p, "w") as f:
        f.write(text)
    gen = os.path.join(work, "gen")
    os.makedirs(gen, exist_ok=True)
    files = sorted(glob.glob(os.path.join(dst, "*.proto")))
    subprocess.run(["protoc", "-I", root, "-I", otlp, "--python_out=" + gen] + files
                   + [os.path.join(otlp, "opentelemetry/proto/common/v1/common.proto")], check=True)
    sys.path.insert(0, gen)
    from tero.policy.v1 import policy_pb2
    return policy_pb2


# policy-file shorthands (reference/policy-engine-upstream.md section 3) as
# proto-JSON, as upstream's server does by parsing with policy-go's file
# parser before re-encoding: short enum names, attribute paths as a string
# or a list, typed literals, enabled defaulting to true.
SHORT_ENUMS = {"log_field": "LOG_FIELD_", "logField": "LOG_FIELD_", "from_log_field": "LOG_FIELD_",
               "fromLogField": "LOG_FIELD_", "metric_field": "METRIC_FIELD_",
               "metricField": "METRIC_FIELD_", "metric_type": "METRIC_TYPE_",
               "metricType": "METRIC_TYPE_", "aggregation_temporality": "AGGREGATION_TEMPORALITY_",
               "aggregationTemporality": "AGGREGATION_TEMPORALITY_", "trace_field": "TRACE_FIELD_",
               "traceField": "TRACE_FIELD_", "span_kind": "SPAN_KIND_", "spanKind": "SPAN_KIND_",
               "span_status": "SPAN_STATUS_CODE_", "spanStatus": "SPAN_STATUS_CODE_",
               "mode": "SAMPLING_MODE_"}
PATHS = re.compile(r"^(from_?)?(log|resource|scope|datapoint|span|event)_?[aA]ttribute$")


def typed(v, numeric_only):
    if isinstance(v, bool) and not numeric_only:
        return {"bool_value": v}
    if isinstance(v, int) and not isinstance(v, bool):
        return {"int_value": str(v)}
    if isinstance(v, float):
        return {"double_value": v}
    return v


def proto_shape(v, key=None):
    """A policy-file value as the proto-JSON protobuf can carry."""
    if isinstance(v, list):
        return [proto_shape(x) for x in v]
    if not isinstance(v, dict):
        return v
    out = {}
    for k, x in v.items():
        if k in SHORT_ENUMS and isinstance(x, str) and not x.startswith(SHORT_ENUMS[k]):
            name = SHORT_ENUMS[k] + x.upper()
            x = "SPAN_STATUS_CODE_UNSPECIFIED" if name == "SPAN_STATUS_CODE_UNSET" else name
        elif PATHS.match(k) and isinstance(x, (str, list)):
            x = {"path": [x] if isinstance(x, str) else x}
        elif k == "equals":
            x = typed(x, False)
        elif k in ("gt", "gte", "lt", "lte"):
            x = typed(x, True)
        out[k] = proto_shape(x, k)
    return out


def policies_as_proto(d):
    d = dict(d)
    pols = []
    for p in d.get("policies", []):
        p = proto_shape(p)
        p.setdefault("enabled", True)
        pols.append(p)
    if "policies" in d:
        d["policies"] = pols
    return d


class ProtoCodec:
    def __init__(self, shared, work):
        from google.protobuf import json_format
        self.pb = generate(shared, work)
        self.json_format = json_format

    def decode_request(self, data):
        msg = self.pb.SyncRequest.FromString(data)
        return self.json_format.MessageToDict(msg)

    def encode_response(self, d):
        msg = self.pb.SyncResponse()
        self.json_format.ParseDict(policies_as_proto(d), msg)
        return msg.SerializeToString()


SYNC_PATH = b"/tero.policy.v1.PolicyService/Sync"


class GrpcSyncServer:
    """PolicyService/Sync on 127.0.0.1:port (0 = free), backed by sync (a
    SyncServer) and codec (a ProtoCodec). .target is HOST:PORT."""

    def __init__(self, sync, codec):
        self.sync, self.codec = sync, codec
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.target = "127.0.0.1:%d" % self.port
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.stopping = True
        try:
            socket.create_connection(("127.0.0.1", self.port), 1).close()
        except OSError:
            pass
        self.sock.close()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        import h2.config, h2.connection, h2.events
        h = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False,
                                                                 header_encoding=None))
        h.initiate_connection()
        streams = {}
        try:
            conn.sendall(h.data_to_send())
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                for ev in h.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        streams[ev.stream_id] = [dict(ev.headers), b""]
                    elif isinstance(ev, h2.events.DataReceived):
                        streams[ev.stream_id][1] += ev.data
                        h.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        hdr, body = streams.pop(ev.stream_id)
                        self._answer(h, ev.stream_id, hdr, body)
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        conn.sendall(h.data_to_send())
                        return
                conn.sendall(h.data_to_send())
        except OSError:
            pass
        finally:
            conn.close()

    def _status_only(self, h, sid, code, msg):
        h.send_headers(sid, [(b":status", b"200"), (b"content-type", b"application/grpc"),
                             (b"grpc-status", str(code).encode()),
                             (b"grpc-message", quote(msg, safe=" ").encode())],
                       end_stream=True)

    def _answer(self, h, sid, hdr, body):
        with self.sync.lock:
            enc = hdr.get(b"grpc-encoding")
            self.sync.encodings.append((hdr.get(b":path", b"").decode(), enc and enc.decode(),
                                        body[:1] == b"\x01"))
        if hdr.get(b":path") != SYNC_PATH or hdr.get(b"content-type", b"")[:16] != b"application/grpc":
            return self._status_only(h, sid, 12, "unimplemented")
        if len(body) < 5 or struct.unpack(">I", body[1:5])[0] != len(body) - 5:
            return self._status_only(h, sid, 13, "malformed length prefix")
        msg = body[5:]
        if body[0] == 1:
            if hdr.get(b"grpc-encoding") != b"gzip":
                return self._status_only(h, sid, 13, "compressed without grpc-encoding")
            msg = gzip.decompress(msg)
        if self.sync.failing:
            return self._status_only(h, sid, 14, "down")
        try:
            req = self.codec.decode_request(msg)
        except Exception as e:  # noqa: BLE001 - a bad message is the test's finding
            return self._status_only(h, sid, 3, "bad SyncRequest: %s" % e)
        try:
            out = self.codec.encode_response(self.sync.record(req))
        except Exception as e:  # noqa: BLE001 - policies protobuf cannot carry
            return self._status_only(h, sid, 13, "cannot encode the SyncResponse: %s" % e)
        h.send_headers(sid, [(b":status", b"200"), (b"content-type", b"application/grpc")])
        h.send_data(sid, b"\0" + struct.pack(">I", len(out)) + out)
        h.send_headers(sid, [(b"grpc-status", b"0")], end_stream=True)
