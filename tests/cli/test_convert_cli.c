/* tests/cli/test_convert_cli.c: `sluice convert` between OTLP/JSON and
 * OTLP/protobuf end to end (the binary in SLUICE_CLI): round trips through
 * files and pipes, --delimited streams, the exit statuses (1 with a
 * located message for bad input, 2 for usage), and that the document
 * conversion of before is unchanged. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SL_TEST_TMPDIR "/tmp/sluice-conv-XXXXXX"
#include "cli/tmpdir.h"
static char out[1 << 16], err[1 << 16];

TestSuite(convert, .init = make_dir, .fini = remove_dir);

static void put(const char *name, const char *text, size_t n) {
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    fwrite(text, 1, n, f);
    fclose(f);
}

static size_t slurp(const char *name, char *buf, size_t cap) {
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f) {
        fclose(f);
    }
    return n;
}

/* Run `sluice ARGS` in the test directory; capture stdout and stderr. */
static int run(const char *args) {
    cr_assert_not_null(getenv("SLUICE_CLI"), "SLUICE_CLI is not set");
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "cd %s && ($SLUICE_CLI %s) > out.txt 2> err.txt",
             dir, args);
    int st = system(cmd);
    slurp("out.txt", out, sizeof(out));
    slurp("err.txt", err, sizeof(err));
    cr_assert(WIFEXITED(st), "%s: %s", args, err);
    cr_assert_null(strstr(err, "Sanitizer"), "%s", err);
    return WEXITSTATUS(st);
}

#define LOGS1                                                                 \
    "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":"  \
    "\"1544712660300000000\",\"severityNumber\":9,\"severityText\":\"INFO\"," \
    "\"body\":{\"stringValue\":\"hi\"},\"traceId\":"                          \
    "\"5b8efff798038103d269b633813fc60c\"}]}]}]}\n"
#define LOGS2                                                             \
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"svc\"," \
    "\"value\":{\"intValue\":\"7\"}}]},\"scopeLogs\":[{\"logRecords\":[{" \
    "\"body\":{\"bytesValue\":\"AP8Q\"}}]}]}]}\n"

Test(convert, json_to_protobuf_and_back_through_files) {
    put("in.json", LOGS1, strlen(LOGS1));
    cr_assert_eq(run("convert --from otlp-json --to otlp-proto in.json "
                     "out.pb"),
                 0, "%s", err);
    cr_assert_eq(run("convert --from otlp-proto --to otlp-json --signal logs "
                     "out.pb"),
                 0, "%s", err);
    cr_assert_str_eq(out, LOGS1);
    /* protobuf -> protobuf: untouched, byte for byte */
    char a[4096], b[4096];
    size_t na = slurp("out.pb", a, sizeof(a));
    cr_assert_eq(run("convert --from otlp-proto --to otlp-proto --signal logs "
                     "out.pb same.pb"),
                 0, "%s", err);
    size_t nb = slurp("same.pb", b, sizeof(b));
    cr_assert(na == nb && memcmp(a, b, na) == 0);
}

Test(convert, a_stream_needs_delimited_protobuf) {
    put("in.jsonl", LOGS1 LOGS2, strlen(LOGS1 LOGS2));
    cr_assert_eq(run("convert --from otlp-json --to otlp-proto in.jsonl x.pb"),
                 1);
    cr_assert(strstr(err, "more than one request: protobuf output of a "
                          "stream needs --delimited"),
              "%s", err);
    cr_assert_eq(run("convert --from otlp-json --to otlp-proto --delimited "
                     "in.jsonl - | $SLUICE_CLI convert --from otlp-proto "
                     "--to otlp-json --signal logs --delimited"),
                 0, "%s", err);
    cr_assert_str_eq(out, LOGS1 LOGS2);
}

Test(convert, malformed_protobuf_is_a_located_error) {
    /* resource_logs[0] whose scope_logs says 9 bytes and has 1 */
    static const char bad[] = {0x0a, 0x03, 0x12, 0x09, 0x00};
    put("bad.pb", bad, sizeof(bad));
    cr_assert_eq(run("convert --from otlp-proto --to otlp-json --signal "
                     "metrics bad.pb"),
                 1);
    cr_assert(strstr(err, "bad.pb: resourceMetrics[0].scopeMetrics: length 9 "
                          "past the end of its message (offset 2)"),
              "%s", err);
}

Test(convert, usage_errors_exit_2) {
    put("x.pb", "", 0);
    cr_assert_eq(run("convert --from otlp-proto --to otlp-json x.pb"), 2);
    cr_assert(strstr(err, "protobuf input needs --signal"), "%s", err);
    cr_assert_eq(run("convert --from otlp-json x.pb"), 2);
    cr_assert_eq(run("convert --from otlp-json --to otlp-proto --pretty x.pb"),
                 2);
    cr_assert_eq(run("convert --from otlp-proto --to otlp-json --signal logz "
                     "x.pb"),
                 2);
    /* an empty protobuf file is an empty request */
    cr_assert_eq(run("convert --from otlp-proto --to otlp-json --signal logs "
                     "x.pb"),
                 0, "%s", err);
    cr_assert_str_eq(out, "{}\n");
}

Test(convert, documents_still_convert_as_before) {
    put("a.toml", "a = 1\n", 6);
    cr_assert_eq(run("convert a.toml"), 0, "%s", err);
    cr_assert_str_eq(out, "{\"a\":1}\n");
}
