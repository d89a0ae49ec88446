/* src/serve/sender.c: the exporter's transport (sender.h). */
#include "serve/sender.h"

#include "base/base.h"
#include "serve/grpc_client.h"

struct sl__serve_sender {
    sl__serve_forward *http;
    sl__grpc_client *grpc;
};

sl__serve_sender *sl__serve_sender_new(const sl__serve_opts *o, sl_error *err) {
    sl__serve_sender *s = sl__calloc(1, sizeof(*s));
    if (!s) {
        sl__nomem(err);
        return NULL;
    }
    sl__serve_client_opts co = {.proto = o->forward_proto,
                                .gzip = o->forward_compress !=
                                        SL_SERVE_COMPRESS_NONE, /* default */
                                .tls = o->forward_grpc_tls,
                                .ca_file = o->forward_ca,
                                .insecure = o->forward_insecure};
    if (o->forward_grpc) {
        s->grpc = sl__grpc_client_new(o->forward_grpc, &co, err);
    } else {
        s->http = sl__serve_forward_new(o->forward, &co, err);
    }
    if (!s->grpc && !s->http) {
        sl__free(s, sizeof(*s));
        return NULL;
    }
    return s;
}

void sl__serve_sender_free(sl__serve_sender *s) {
    if (s) {
        sl__serve_forward_free(s->http);
        sl__grpc_client_free(s->grpc);
        sl__free(s, sizeof(*s));
    }
}

static const char *export_path(sl_signal sig) {
    switch (sig) {
    case SL_SIGNAL_METRIC:
        return "/opentelemetry.proto.collector.metrics.v1.MetricsService/"
               "Export";
    case SL_SIGNAL_TRACE:
        return "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    default:
        return "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    }
}

sl__forward_result sl__serve_sender_send(sl__serve_sender *s, sl_signal sig,
                                         const char *body, size_t len,
                                         unsigned *retry_after_ms,
                                         int *status) {
    if (s->http) {
        return sl__serve_forward_post(s->http, sig, body, len, retry_after_ms,
                                      status);
    }
    sl__grpc_reply r;
    sl__forward_result fr =
        sl__grpc_client_call(s->grpc, export_path(sig), body, len, NULL, &r);
    *retry_after_ms = r.pushback_ms;
    *status = r.grpc_status >= 0 ? r.grpc_status : r.http_status ? -1 : 0;
    return fr;
}
