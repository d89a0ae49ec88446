/* src/serve/pipeline.h: what happens to one export request, whatever
 * the transport: admission (queue room), decompression (bounded), OTLP
 * load, policies (the current snapshot), write of the kept data, export.
 * One sl__serve_pipe per worker thread holds everything a request needs,
 * allocated once: the batch, the policy context, the buffers. */
#ifndef SL_SERVE_PIPELINE_H
#define SL_SERVE_PIPELINE_H

#include "serve/codec.h"
#include "serve/private.h"

typedef struct sl__serve_pipe {
    sl__serve *srv;
    sl__serve_snap *snap; /* held reference */
    sl_policy_ctx *ctx;   /* for snap->set */
    sl_otlp *o;
    sl_buf plain; /* decompressed body */
    sl_buf kept;  /* written kept data */
    sl_buf reply; /* HTTP/1.1 response bodies, reused */
    /* on-disk queue: the generation to commit before the answers of the
     * requests run since the last commit are sent; 0 = nothing to wait
     * for (net.c commits once per event batch) */
    uint64_t commit;
} sl__serve_pipe;

/* What to answer. http is the HTTP status; grpc the matching gRPC code. */
typedef struct sl__serve_outcome {
    int http;
    uint64_t rejected; /* records rejected (partial success) */
    unsigned retry_after_s;
    char msg[320];
} sl__serve_outcome;

sl_status sl__serve_pipe_init(sl__serve_pipe *p, sl__serve *srv);
void sl__serve_pipe_free(sl__serve_pipe *p);

/* Run one request of signal sig. proto: the body is protobuf. */
void sl__serve_pipe_run(sl__serve_pipe *p, sl_signal sig, bool proto,
                        sl__serve_enc enc, const char *body, size_t len,
                        sl__serve_outcome *out);

#endif
