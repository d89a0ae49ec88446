/* tests/serve/test_serve.c: the gateway's pieces without sockets: HTTP/1.1
 * framing (split reads, chunked in place, pipelining, limits), bounded
 * decompression (gzip / zstd bombs, corrupt data), and the response
 * messages in JSON and protobuf. End-to-end behaviour over loopback is in
 * tests/serve/run-serve.py. */
#include <criterion/criterion.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "base/base.h"
#include "serve/codec.h"
#include "serve/http1.h"
#include "serve/reply.h"

static sl__http_result feed(sl__http_parser *p, sl_buf *in, const char *s,
                            sl__http_req *req, int *status) {
    cr_assert_eq(sl__buf_append(in, s, strlen(s)), SL_OK);
    return sl__http_parse(p, in, 4096, 1000, req, status);
}

Test(http1, content_length_body_split_across_reads) {
    sl__http_parser p = {0};
    sl_buf in = {0};
    sl__http_req req;
    int st = 0;
    cr_assert_eq(
        feed(&p, &in, "POST /v1/logs HTTP/1.1\r\nContent-Le", &req, &st),
        SL_HTTP_MORE);
    cr_assert_eq(feed(&p, &in,
                      "ngth: 5\r\nContent-Type: application/json\r\n"
                      "\r\nab",
                      &req, &st),
                 SL_HTTP_MORE);
    cr_assert_eq(feed(&p, &in, "cde", &req, &st), SL_HTTP_DONE);
    cr_assert_eq(req.body_len, 5);
    cr_assert_eq(memcmp(req.body, "abcde", 5), 0);
    cr_assert(sl__http_ieq(req.content_type, "application/json"));
    cr_assert(req.keep_alive);
    sl__http_consume(&p, &in);
    cr_assert_eq(in.len, 0);
    sl__buf_free(&in);
}

Test(http1, chunked_body_decoded_in_place_then_pipelined_request) {
    sl__http_parser p = {0};
    sl_buf in = {0};
    sl__http_req req;
    int st = 0;
    cr_assert_eq(feed(&p, &in,
                      "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n",
                      &req, &st),
                 SL_HTTP_MORE);
    cr_assert_eq(feed(&p, &in, "4\r\nde", &req, &st), SL_HTTP_MORE);
    cr_assert_eq(feed(&p, &in,
                      "fg\r\n0\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n"
                      "\r\n",
                      &req, &st),
                 SL_HTTP_DONE);
    cr_assert_eq(req.body_len, 7);
    cr_assert_eq(memcmp(req.body, "abcdefg", 7), 0);
    sl__http_consume(&p, &in);
    cr_assert_eq(sl__http_parse(&p, &in, 4096, 1000, &req, &st), SL_HTTP_DONE);
    cr_assert_eq(req.path.len, 2);
    cr_assert_eq(memcmp(req.path.ptr, "/b", 2), 0);
    cr_assert_not(req.keep_alive);
    sl__buf_free(&in);
}

Test(http1, limits_and_malformed_heads_give_statuses) {
    static const struct {
        const char *req;
        int status;
    } cases[] = {
        {"POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n", 413},
        {"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: "
         "1\r\n\r\n",
         400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n", 0},
        {"\x01\x02 nonsense\r\n\r\n", 400},
        {"GET / HTTP/1.2\r\n\r\n", 505},
    };
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        sl__http_parser p = {0};
        sl_buf in = {0};
        sl__http_req req;
        int st = 0;
        sl__http_result r = feed(&p, &in, cases[i].req, &req, &st);
        if (cases[i].status == 0) {
            cr_assert_eq(r, SL_HTTP_MORE, "case %zu", i);
        } else {
            cr_assert_eq(r, SL_HTTP_ERROR, "case %zu", i);
            cr_assert_eq(st, cases[i].status, "case %zu: %d", i, st);
        }
        sl__buf_free(&in);
    }
}

Test(http1, chunked_body_over_the_limit_gives_413) {
    sl__http_parser p = {0};
    sl_buf in = {0};
    sl__http_req req;
    int st = 0;
    feed(&p, &in, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &req,
         &st);
    char chunk[700];
    memset(chunk, 'a', sizeof(chunk));
    cr_assert_eq(feed(&p, &in, "2bc\r\n", &req, &st), SL_HTTP_MORE);
    sl__buf_append(&in, chunk, sizeof(chunk));
    cr_assert_eq(sl__http_parse(&p, &in, 4096, 1000, &req, &st), SL_HTTP_MORE);
    cr_assert_eq(feed(&p, &in, "\r\n2bc\r\n", &req, &st), SL_HTTP_MORE);
    sl__buf_append(&in, chunk, sizeof(chunk));
    cr_assert_eq(sl__http_parse(&p, &in, 4096, 1000, &req, &st), SL_HTTP_ERROR);
    cr_assert_eq(st, 413);
    sl__buf_free(&in);
}

Test(http1, header_block_past_the_limit_gives_431) {
    sl__http_parser p = {0};
    sl_buf in = {0};
    sl__http_req req;
    int st = 0;
    feed(&p, &in, "POST / HTTP/1.1\r\nX: ", &req, &st);
    char big[5000];
    memset(big, 'a', sizeof(big));
    sl__buf_append(&in, big, sizeof(big));
    cr_assert_eq(sl__http_parse(&p, &in, 4096, 1000, &req, &st), SL_HTTP_ERROR);
    cr_assert_eq(st, 431);
    sl__buf_free(&in);
}

static size_t gz(const char *src, size_t n, unsigned char *dst, size_t cap) {
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)n;
    zs.next_out = dst;
    zs.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t out = zs.total_out;
    deflateEnd(&zs);
    return out;
}

Test(codec, gzip_round_trip_and_bomb_stops_at_the_limit) {
    size_t n = 8u << 20;
    char *zeros = calloc(1, n);
    static unsigned char packed[64 * 1024];
    size_t plen = gz(zeros, n, packed, sizeof(packed));
    sl_buf out = {0};
    sl_error err = {0};
    cr_assert_eq(sl__serve_decompress(SL_SERVE_ENC_GZIP, (char *)packed, plen,
                                      n, &out, &err),
                 SL_OK, "%s", err.msg);
    cr_assert_eq(out.len, n);
    sl__buf_free(&out);
    cr_assert_eq(sl__serve_decompress(SL_SERVE_ENC_GZIP, (char *)packed, plen,
                                      1 << 20, &out, &err),
                 SL_ELIMIT);
    /* the buffer doubles: at most twice the limit, never the bomb's size */
    cr_assert_leq(out.cap, (2u << 20) + 128 * 1024, "bomb grew to %zu",
                  out.cap);
    out.len = 0;
    cr_assert_eq(sl__serve_decompress(SL_SERVE_ENC_GZIP, (char *)packed,
                                      plen / 2, n, &out, &err),
                 SL_EPARSE);
    cr_assert(strstr(err.msg, "truncated"), "%s", err.msg);
    sl__buf_free(&out);
    free(zeros);
}

Test(codec, zstd_bomb_stops_at_the_limit_and_corrupt_is_eparse) {
    size_t n = 8u << 20;
    char *zeros = calloc(1, n);
    size_t cap = ZSTD_compressBound(n);
    char *packed = malloc(cap);
    size_t plen = ZSTD_compress(packed, cap, zeros, n, 3);
    cr_assert_not(ZSTD_isError(plen));
    sl_buf out = {0};
    sl_error err = {0};
    cr_assert_eq(
        sl__serve_decompress(SL_SERVE_ENC_ZSTD, packed, plen, n, &out, &err),
        SL_OK, "%s", err.msg);
    cr_assert_eq(out.len, n);
    out.len = 0;
    cr_assert_eq(sl__serve_decompress(SL_SERVE_ENC_ZSTD, packed, plen, 1 << 20,
                                      &out, &err),
                 SL_ELIMIT);
    out.len = 0;
    cr_assert_eq(
        sl__serve_decompress(SL_SERVE_ENC_ZSTD, "garbage!", 8, n, &out, &err),
        SL_EPARSE);
    sl__buf_free(&out);
    free(packed);
    free(zeros);
}

Test(codec, encoding_names) {
    cr_assert_eq(sl__serve_enc_parse((sl_str){"", 0}), SL_SERVE_ENC_IDENTITY);
    cr_assert_eq(sl__serve_enc_parse((sl_str){"GZIP", 4}), SL_SERVE_ENC_GZIP);
    cr_assert_eq(sl__serve_enc_parse((sl_str){"zstd", 4}), SL_SERVE_ENC_ZSTD);
    cr_assert_eq(sl__serve_enc_parse((sl_str){"br", 2}), SL_SERVE_ENC_UNKNOWN);
}

Test(reply, export_response_json_and_protobuf) {
    sl_buf b = {0};
    cr_assert_eq(sl__serve_reply_export(&b, false, SL_SIGNAL_LOG, 0, ""),
                 SL_OK);
    cr_assert_str_eq(b.ptr, "{}");
    b.len = 0;
    sl__serve_reply_export(&b, false, SL_SIGNAL_TRACE, 2, "bad \"x\"");
    cr_assert_str_eq(b.ptr, "{\"partialSuccess\":{\"rejectedSpans\":\"2\","
                            "\"errorMessage\":\"bad \\\"x\\\"\"}}");
    b.len = 0;
    sl__serve_reply_export(&b, true, SL_SIGNAL_LOG, 0, "");
    cr_assert_eq(b.len, 0, "full success is an empty message");
    sl__serve_reply_export(&b, true, SL_SIGNAL_LOG, 300, "ab");
    /* partial_success(1) { rejected(1)=300 varint, error_message(2)="ab" } */
    static const unsigned char want[] = {0x0a, 0x07, 0x08, 0xac, 0x02,
                                         0x12, 0x02, 'a',  'b'};
    cr_assert_eq(b.len, sizeof(want));
    cr_assert_eq(memcmp(b.ptr, want, sizeof(want)), 0);
    sl__buf_free(&b);
}

Test(reply, status_json_and_protobuf) {
    sl_buf b = {0};
    sl__serve_reply_status(&b, false, 3, "body:1:2: oops");
    cr_assert_str_eq(b.ptr, "{\"code\":3,\"message\":\"body:1:2: oops\"}");
    b.len = 0;
    sl__serve_reply_status(&b, true, 8, "x");
    static const unsigned char want[] = {0x08, 0x08, 0x12, 0x01, 'x'};
    cr_assert_eq(b.len, sizeof(want));
    cr_assert_eq(memcmp(b.ptr, want, sizeof(want)), 0);
    cr_assert_eq(sl__serve_grpc_code(503), 14);
    cr_assert_eq(sl__serve_grpc_code(413), 8);
    cr_assert_eq(sl__serve_grpc_code(400), 3);
    sl__buf_free(&b);
}

#include <stdio.h>
#include <unistd.h>

#include "serve/config.h"
#include "serve/tmpfile.h"

Test(config, file_fills_options_and_flags_win) {
    char path[64];
    write_tmp(path, "serve.yaml",
              "receivers: {http: 127.0.0.1:1, grpc: 127.0.0.1:2}\n"
              "threads: 3\n"
              "policies: {files: [a.json, b.yaml], watch: false}\n"
              "exporter: {forward: http://x:1, queue_bytes: 1000}\n"
              "limits: {max_body: 5000}\n");
    sl__serve_config cfg;
    sl_error err = {0};
    cr_assert_eq(sl__serve_config_load(path, &cfg, &err), SL_OK, "%s", err.msg);
    remove_tmp(path);
    cr_assert_eq(cfg.nproblems, 0, "%s", cfg.problems[0].msg);
    sl__serve_opts o;
    memset(&o, 0, sizeof(o));
    o.output = "flag.jsonl"; /* a flag chose the exporter */
    o.threads = 7;
    sl__serve_config_merge(&o, &cfg);
    cr_assert_str_eq(o.http, "127.0.0.1:1");
    cr_assert_str_eq(o.grpc, "127.0.0.1:2");
    cr_assert_eq(o.threads, 7, "the flag wins");
    cr_assert_str_eq(o.output, "flag.jsonl");
    cr_assert_null(o.forward, "the file's exporter is not mixed in");
    cr_assert_eq(o.queue_bytes, 1000);
    cr_assert_eq(o.max_body, 5000);
    cr_assert_eq(o.npolicies, 2);
    cr_assert_str_eq(o.policies[1], "b.yaml");
    cr_assert(o.no_watch);
    sl__serve_config_free(&cfg);
}

Test(config, problems_are_located_and_valid_keys_still_apply) {
    char path[64];
    write_tmp(path, "serve.yaml",
              "admin: 127.0.0.1:9\n"
              "limits:\n"
              "  max_body: 0\n"
              "  bogus: 1\n"
              "exporter: [1]\n");
    sl__serve_config cfg;
    sl_error err = {0};
    cr_assert_eq(sl__serve_config_load(path, &cfg, &err), SL_OK);
    remove_tmp(path);
    cr_assert_eq(cfg.nproblems, 3);
    cr_assert_eq(cfg.problems[0].line, 3);
    cr_assert_eq(cfg.problems[0].col, 13);
    cr_assert(strstr(cfg.problems[0].msg, "max_body"), "%s",
              cfg.problems[0].msg);
    cr_assert_eq(cfg.problems[1].line, 4);
    cr_assert_eq(cfg.problems[1].col, 3);
    cr_assert_str_eq(cfg.problems[1].msg, "unknown key \"bogus\" in limits");
    cr_assert_eq(cfg.problems[2].line, 5);
    cr_assert_str_eq(cfg.opts.admin, "127.0.0.1:9");
    sl__serve_config_free(&cfg);
}

Test(config, forward_grpc_and_protobuf_sync_keys_and_exclusive_exporters) {
    char path[64];
    write_tmp(path, "serve.yaml",
              "policies: {server: \"grpc://127.0.0.1:9\", protobuf: true}\n"
              "exporter: {forward_grpc: 127.0.0.1:4317}\n");
    sl__serve_config cfg;
    sl_error err = {0};
    cr_assert_eq(sl__serve_config_load(path, &cfg, &err), SL_OK, "%s", err.msg);
    remove_tmp(path);
    cr_assert_eq(cfg.nproblems, 0, "%s", cfg.problems[0].msg);
    sl__serve_opts o;
    memset(&o, 0, sizeof(o));
    sl__serve_config_merge(&o, &cfg);
    cr_assert_str_eq(o.forward_grpc, "127.0.0.1:4317");
    cr_assert_str_eq(o.policy_server, "grpc://127.0.0.1:9");
    cr_assert(o.policy_proto);
    memset(&o, 0, sizeof(o));
    o.forward = "http://flag:1"; /* a flag chose the exporter */
    sl__serve_config_merge(&o, &cfg);
    cr_assert_null(o.forward_grpc, "the file's exporter is not mixed in");
    sl__serve_config_free(&cfg);
    write_tmp(path, "serve.yaml",
              "exporter: {forward_grpc: \"no-port\", output: x}\n");
    cr_assert_eq(sl__serve_config_load(path, &cfg, &err), SL_OK);
    remove_tmp(path);
    cr_assert_eq(cfg.nproblems, 1);
    cr_assert(strstr(cfg.problems[0].msg, "forward_grpc"), "%s",
              cfg.problems[0].msg);
    sl__serve_config_free(&cfg);
    write_tmp(path, "serve.yaml",
              "exporter: {forward_grpc: \"h:1\", output: x}\n");
    cr_assert_eq(sl__serve_config_load(path, &cfg, &err), SL_OK);
    remove_tmp(path);
    cr_assert_eq(cfg.nproblems, 1);
    cr_assert(strstr(cfg.problems[0].msg, "exclude each other"), "%s",
              cfg.problems[0].msg);
    sl__serve_config_free(&cfg);
}
