/* tests/serve/test_sync_pb.c: the sync messages' protobuf tables
 * (serve/sync_schema.c) against bytes Python's protobuf package serialised
 * from the same proto-JSON (json_format.ParseDict + SerializeToString over
 * code protoc generated from ../shared/conformance/policy/proto), both
 * ways; and the gRPC client's failures without a peer that answers. The
 * provider tests (tests/conformance/run-policy-provider*.py,
 * tests/serve/run-serve-provider.py) compare with Python end to end. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/base.h"
#include "serve/grpc_client.h"
#include "serve/private.h"
#include "serve/sync_schema.h"

/* SyncRequest: packed enums, a KeyValue, bool, string, a status with an
 * error and an add stage. */
static const char REQ_JSON[] =
    "{\"clientMetadata\":{\"supportedPolicyStages\":[1,2],"
    "\"resourceAttributes\":[{\"key\":\"service.name\",\"value\":{"
    "\"stringValue\":\"s\"}}]},\"fullSync\":true,\"lastSuccessfulHash\":"
    "\"h\",\"policyStatuses\":[{\"id\":\"p\",\"matchHits\":\"3\","
    "\"matchMisses\":\"1\",\"errors\":[\"bad\"],\"add\":{\"hits\":\"2\","
    "\"misses\":\"1\"}}]}";
static const char REQ_PB[] =
    "\x0a\x19\x0a\x02\x01\x02\x1a\x13\x0a\x0c\x73\x65\x72\x76\x69\x63\x65"
    "\x2e\x6e\x61\x6d\x65\x12\x03\x0a\x01\x73\x10\x01\x22\x01\x68\x2a\x12"
    "\x0a\x01\x70\x10\x03\x18\x01\x22\x03\x62\x61\x64\x6a\x04\x08\x02\x10"
    "\x01";

/* SyncResponse: a trace policy (enum in a oneof, regex, float percentage,
 * proto3 optional), fixed64, uint32. */
static const char RESP_JSON[] =
    "{\"policies\":[{\"id\":\"t\",\"enabled\":true,\"trace\":{\"match\":[{"
    "\"traceField\":2,\"regex\":\"^a\"}],\"keep\":{\"percentage\":12.5,"
    "\"samplingPrecision\":4}}}],\"hash\":\"h\",\"syncTimestampUnixNano\":"
    "\"7\",\"recommendedSyncIntervalSeconds\":30}";
static const char RESP_PB[] =
    "\x0a\x18\x0a\x01\x74\x20\x01\x62\x11\x0a\x06\x08\x02\x5a\x02\x5e\x61"
    "\x12\x07\x0d\x00\x00\x48\x41\x18\x04\x12\x01\x68\x19\x07\x00\x00\x00"
    "\x00\x00\x00\x00\x20\x1e";

Test(sync_pb, request_encodes_to_the_bytes_python_serialises) {
    sl_buf out = {0};
    sl_error err = {0};
    cr_assert_eq(sl__sync_pb_from_json(SL_SYNC_MSG_REQUEST, REQ_JSON,
                                       strlen(REQ_JSON), &out, &err),
                 SL_OK, "%s", err.msg);
    cr_assert_eq(out.len, sizeof(REQ_PB) - 1);
    cr_assert_eq(memcmp(out.ptr, REQ_PB, out.len), 0);
    sl__buf_free(&out);
}

Test(sync_pb, python_bytes_decode_to_the_same_proto_json_both_messages) {
    sl_buf out = {0};
    sl_error err = {0};
    cr_assert_eq(sl__sync_pb_to_json(SL_SYNC_MSG_RESPONSE, RESP_PB,
                                     sizeof(RESP_PB) - 1, &out, &err),
                 SL_OK, "%s", err.msg);
    cr_assert_eq(out.len, strlen(RESP_JSON), "%.*s", (int)out.len, out.ptr);
    cr_assert_eq(memcmp(out.ptr, RESP_JSON, out.len), 0, "%.*s", (int)out.len,
                 out.ptr);
    out.len = 0;
    cr_assert_eq(sl__sync_pb_to_json(SL_SYNC_MSG_REQUEST, REQ_PB,
                                     sizeof(REQ_PB) - 1, &out, &err),
                 SL_OK, "%s", err.msg);
    cr_assert_eq(out.len, strlen(REQ_JSON), "%.*s", (int)out.len, out.ptr);
    cr_assert_eq(memcmp(out.ptr, REQ_JSON, out.len), 0);
    /* and back: the response re-encodes to Python's bytes */
    sl_buf pb = {0};
    out.len = 0;
    cr_assert_eq(sl__sync_pb_from_json(SL_SYNC_MSG_RESPONSE, RESP_JSON,
                                       strlen(RESP_JSON), &pb, &err),
                 SL_OK);
    cr_assert_eq(pb.len, sizeof(RESP_PB) - 1);
    cr_assert_eq(memcmp(pb.ptr, RESP_PB, pb.len), 0);
    sl__buf_free(&pb);
    sl__buf_free(&out);
}

Test(sync_pb, malformed_protobuf_and_wrong_json_types_are_located_errors) {
    sl_buf out = {0};
    sl_error err = {0};
    /* policies (field 1) with a length past the end */
    cr_assert_eq(sl__sync_pb_to_json(SL_SYNC_MSG_RESPONSE, "\x0a\x05\x0a", 3,
                                     &out, &err),
                 SL_EPARSE);
    cr_assert(err.msg[0]);
    /* hash (string) given as varint: wrong wire type */
    memset(&err, 0, sizeof(err));
    cr_assert_eq(
        sl__sync_pb_to_json(SL_SYNC_MSG_RESPONSE, "\x10\x01", 2, &out, &err),
        SL_ESCHEMA);
    cr_assert(strstr(err.msg, "hash"), "%s", err.msg);
    /* fullSync as a string */
    memset(&err, 0, sizeof(err));
    cr_assert_eq(sl__sync_pb_from_json(SL_SYNC_MSG_REQUEST,
                                       "{\"fullSync\":\"yes\"}", 18, &out,
                                       &err),
                 SL_ESCHEMA);
    cr_assert(strstr(err.msg, "fullSync"), "%s", err.msg);
    sl__buf_free(&out);
}

/* proto3 leaves enabled = false off the wire; a policy document without
 * enabled is enabled: the decoded policy says false. */
Test(sync_pb, a_policy_without_enabled_on_the_wire_is_disabled) {
    sl_buf out = {0};
    /* policies: [{id: "p"}] */
    cr_assert_eq(sl__sync_pb_to_json(SL_SYNC_MSG_RESPONSE, "\x0a\x03\x0a\x01p",
                                     5, &out, NULL),
                 SL_OK);
    static const char want[] =
        "{\"policies\":[{\"id\":\"p\",\"enabled\":false}]}";
    cr_assert_eq(out.len, strlen(want), "%.*s", (int)out.len, out.ptr);
    cr_assert_eq(memcmp(out.ptr, want, out.len), 0);
    sl__buf_free(&out);
}

Test(sync_pb, unknown_fields_are_skipped_on_decode) {
    sl_buf out = {0};
    /* field 99 (varint) then hash "h" */
    cr_assert_eq(sl__sync_pb_to_json(SL_SYNC_MSG_RESPONSE,
                                     "\x98\x06\x01\x12\x01h", 6, &out, NULL),
                 SL_OK);
    cr_assert_eq(out.len, strlen("{\"hash\":\"h\"}"));
    cr_assert_eq(memcmp(out.ptr, "{\"hash\":\"h\"}", out.len), 0);
    sl__buf_free(&out);
}

Test(grpc_client, targets_are_host_port) {
    sl_error err = {0};
    sl__serve_client_opts plain = {0}, gz = {.gzip = true};
    cr_assert_null(sl__grpc_client_new("localhost", &plain, &err));
    cr_assert_null(sl__grpc_client_new(":4317", &plain, &err));
    cr_assert_null(sl__grpc_client_new("h:x1", &plain, &err));
    sl__grpc_client *c = sl__grpc_client_new("[::1]:4317", &gz, &err);
    cr_assert_not_null(c, "%s", err.msg);
    sl__grpc_client_free(c);
}

/* A listener that accepts and never answers: the call gives up at its
 * deadline and is retryable; nobody listening: retryable at once. */
Test(grpc_client, silent_peer_times_out_and_refused_is_retryable) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(fd, 4), 0);
    socklen_t al = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    char target[64];
    snprintf(target, sizeof(target), "127.0.0.1:%u", ntohs(a.sin_port));
    sl__serve_client_opts plain = {0};
    sl__grpc_client *c = sl__grpc_client_new(target, &plain, NULL);
    cr_assert_not_null(c);
    sl__grpc_client_set_timeout(c, 300);
    sl__grpc_reply r;
    uint64_t t0 = sl__serve_now_ms();
    cr_assert_eq(sl__grpc_client_call(c, "/x.Y/Z", "m", 1, NULL, &r),
                 SL_FORWARD_RETRY);
    uint64_t ms = sl__serve_now_ms() - t0;
    cr_assert(ms >= 250 && ms < 5000, "gave up after %llu ms",
              (unsigned long long)ms);
    cr_assert_eq(r.grpc_status, -1);
    cr_assert_eq(r.http_status, 0);
    close(fd); /* nobody listens now */
    cr_assert_eq(sl__grpc_client_call(c, "/x.Y/Z", "m", 1, NULL, &r),
                 SL_FORWARD_RETRY);
    sl__grpc_client_free(c);
}
