/* fuzz/fuzz_sync.c: the policy sync client's answer path without
 * sockets. The first byte picks the encoding (bit 0: protobuf, as over
 * gRPC or application/x-protobuf; else proto-JSON) and whether a second
 * answer follows (bit 1: the rest is split at its middle, both halves
 * taken in turn, as two syncs would: hash comparison, replacing the kept
 * policies). Each answer goes through sl__sync_answer (protobuf decoded
 * with the sync tables, SyncResponse read, policies kept as a document);
 * a changed document is compiled with the policy loader and its rejected
 * policies noted (sl__sync_compiled), as serve and conform do. The
 * protobuf bytes also go through the table codec both ways (a decoded
 * and re-encoded message must re-encode to the same bytes). Any
 * crash, sanitizer report or leak fails. */
#include <stdint.h>
#include <string.h>

#include "base/base.h"
#include "serve/sync.h"
#include "serve/sync_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void take(sl__sync *s, const char *p, size_t n) {
    bool changed = false;
    sl_error err = {0};
    if (sl__sync_answer(s, p, n, &changed, &err) != SL_OK || !changed) {
        return;
    }
    const sl_doc *doc = sl__sync_doc(s);
    sl_policy_set *set = NULL;
    if (sl_policy_load(&doc, 1, NULL, &set, &err) == SL_OK) {
        (void)sl__sync_compiled(s, set);
    }
    sl_policy_set_free(set);
}

/* protobuf -> JSON -> protobuf -> JSON -> protobuf: the two protobuf
 * encodings agree (the first JSON keeps the input's field order, the
 * encoder writes fields in number order, so the first protobuf is
 * canonical). */
static void round_trip(const char *p, size_t n) {
    sl_buf j1 = {0}, pb1 = {0}, j2 = {0}, pb2 = {0};
    if (sl__sync_pb_to_json(SL_SYNC_MSG_RESPONSE, p, n, &j1, NULL) == SL_OK &&
        sl__sync_pb_from_json(SL_SYNC_MSG_RESPONSE, j1.ptr, j1.len, &pb1,
                              NULL) == SL_OK) {
        if (sl__sync_pb_to_json(SL_SYNC_MSG_RESPONSE, pb1.ptr, pb1.len, &j2,
                                NULL) != SL_OK ||
            sl__sync_pb_from_json(SL_SYNC_MSG_RESPONSE, j2.ptr, j2.len, &pb2,
                                  NULL) != SL_OK ||
            pb1.len != pb2.len ||
            (pb1.len && memcmp(pb1.ptr, pb2.ptr, pb1.len) != 0)) {
            __builtin_trap();
        }
    }
    sl__buf_free(&j1);
    sl__buf_free(&pb1);
    sl__buf_free(&j2);
    sl__buf_free(&pb2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > (1u << 20)) {
        return 0;
    }
    bool proto = data[0] & 1, twice = (data[0] & 2) != 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    sl__serve_client_opts co = {.proto = proto};
    sl__sync *s = sl__sync_new("http://127.0.0.1:9/v1/policy/sync", &co, NULL);
    if (!s) {
        return 0;
    }
    size_t first = twice ? n / 2 : n;
    take(s, p, first);
    if (twice) {
        take(s, p + first, n - first);
    }
    if (proto) {
        round_trip(p, n);
    }
    sl__sync_free(s);
    return 0;
}
