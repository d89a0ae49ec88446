/* tests/redact/test_cli.c: the redact, record and runs commands end to end
 * (the binary named by $SLUICE_CLI): value streams with a bad value in the
 * middle, exit codes, the audit file, the totals line, policy errors with
 * file:line:col, and the run lifecycle. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static void setup(void) {
    snprintf(dir, sizeof(dir), "/tmp/sl_cli_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static void write_file(const char *name, const char *text) {
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_file(const char *name) {
    static char buf[8192];
    char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "%s", p);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Run `sluice ARGS` in dir with stdout to out.txt, stderr to err.txt;
 * returns the exit status. */
static int run(const char *args) {
    const char *cli = getenv("SLUICE_CLI");
    if (!cli) {
        cr_skip_test("SLUICE_CLI not set");
    }
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "cd %s && %s %s > out.txt 2> err.txt", dir, cli,
             args);
    int st = system(cmd);
    cr_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

Test(redact_cli, stream_with_a_bad_value, .init = setup, .fini = teardown) {
    write_file("in.jsonl", "{\"token\":\"t\",\"n\":1.50}\n"
                           "{\"broken\":]\n"
                           "{\n  \"password\": \"p\",\n  \"x\": [1, 2]\n}\n"
                           "{\"cut\":1\n"
                           "{\"token\":2}\n");
    cr_expect_eq(run("redact in.jsonl"), 1);
    cr_expect_str_eq(read_file("out.txt"),
                     "{\"token\":\"[REDACTED]\",\"n\":1.50}\n"
                     "{\"password\":\"[REDACTED]\",\"x\":[1,2]}\n"
                     "{\"token\":\"[REDACTED]\"}\n");
    char *err = read_file("err.txt");
    cr_expect_not_null(strstr(err, "in.jsonl:2:11: "), "%s", err);
    cr_expect_not_null(strstr(err, "in.jsonl:8:1: "), "%s", err);
    cr_expect_not_null(strstr(err, "(in the value starting at line 7)"));
    cr_expect_not_null(strstr(err, "sluice redact: 3 values, 3 masked, 0 "
                                   "hashed, 0 dropped, 0 detected, 2 "
                                   "rejected"),
                       "%s", err);
}

Test(redact_cli, audit_file_has_one_line_per_value, .init = setup,
     .fini = teardown) {
    write_file("in.jsonl", "{\"apiKey\":1}\n{\"a\":{\"secret\":{}}}\n");
    cr_expect_eq(run("redact --default --audit audit.jsonl in.jsonl"), 0);
    cr_expect_str_eq(
        read_file("audit.jsonl"),
        "{\"mask\":1,\"hash\":0,\"drop\":0,\"detect\":0,\"fields\":[{"
        "\"action\":\"mask\",\"path\":\"apiKey\",\"rule\":0}]}\n"
        "{\"mask\":1,\"hash\":0,\"drop\":0,\"detect\":0,\"fields\":[{"
        "\"action\":\"mask\",\"path\":\"a.secret\",\"rule\":3}]}\n");
    cr_expect_str_eq(read_file("err.txt"), "");
}

Test(redact_cli, detectors_on_by_default_and_off_with_no_detect, .init = setup,
     .fini = teardown) {
    write_file("in.jsonl", "{\"note\":\"retry with key AKIAIOSFODNN7EXAMPLE if "
                           "throttled\"}\n");
    cr_expect_eq(run("redact --default in.jsonl"), 0);
    cr_expect_str_eq(read_file("out.txt"),
                     "{\"note\":\"retry with key [REDACTED] if throttled\"}\n");
    cr_expect_not_null(strstr(read_file("err.txt"), "1 detected"));
    cr_expect_eq(run("redact --default --no-detect in.jsonl"), 0);
    cr_expect_str_eq(read_file("out.txt"),
                     "{\"note\":\"retry with key AKIAIOSFODNN7EXAMPLE if "
                     "throttled\"}\n");
    write_file("p.json", "{\"extends\":\"default\",\"detect\":[]}\n");
    cr_expect_eq(run("redact --policy p.json in.jsonl"), 0);
    cr_expect_not_null(strstr(read_file("out.txt"), "AKIAIOSFODNN7EXAMPLE"));
    cr_expect_eq(run("redact --policy p.json --no-detect in.jsonl"), 2);
    cr_expect_not_null(strstr(read_file("err.txt"), "--no-detect"));
}

Test(redact_cli, policy_errors_and_usage, .init = setup, .fini = teardown) {
    write_file("p.json", "{\"rules\": [\n  {\"action\": \"scramble\", "
                         "\"key\": \"x\"}\n]}\n");
    write_file("in.jsonl", "{}\n");
    cr_expect_eq(run("redact --policy p.json in.jsonl"), 1);
    cr_expect_str_eq(read_file("err.txt"),
                     "p.json:2:14: rules[0]: unknown action \"scramble\"\n");
    cr_expect_str_eq(read_file("out.txt"), "");
    cr_expect_eq(run("redact --policy p.json --default in.jsonl"), 2);
    cr_expect_eq(run("redact --bogus"), 2);
}

Test(record_cli, run_lifecycle, .init = setup, .fini = teardown) {
    write_file("ev.jsonl",
               "{\"type\":\"call\",\"payload\":{\"api_key\":\"k\"}}\n"
               "{\"type\":\"call\",\"payload\":[1]}\n"
               "{\"type\":\"out\",\"payload\":{\"ok\":true}}\n");
    cr_expect_eq(run("record --db r.db --entrypoint main.py ev.jsonl"), 1);
    char id[64];
    snprintf(id, sizeof(id), "%s", read_file("out.txt"));
    cr_assert_eq(strlen(id), 33, "%s", id);
    id[32] = '\0';
    cr_expect_not_null(strstr(read_file("err.txt"),
                              "ev.jsonl:2: event rejected: payload must be "
                              "an object, not array"));
    char args[256];
    snprintf(args, sizeof(args), "runs show --db r.db %s", id);
    cr_expect_eq(run(args), 0);
    char *out = read_file("out.txt");
    cr_expect_not_null(strstr(out, "\"seq\":1,"));
    cr_expect_not_null(strstr(out, "\"payload\":{\"api_key\":\"[REDACTED]\"}"));
    cr_expect_not_null(strstr(out, "\"seq\":2,"));
    cr_expect_null(strstr(out, "\"seq\":3,"));
    cr_expect_eq(run("runs list --db r.db"), 0);
    cr_expect_not_null(
        strstr(read_file("out.txt"), "\"status\":\"running\",\"started_at\":"));
    snprintf(args, sizeof(args), "runs end --db r.db %s --status success", id);
    cr_expect_eq(run(args), 0);
    cr_expect_eq(run(args), 1);
    cr_expect_not_null(strstr(read_file("err.txt"), "is finished"));
    cr_expect_eq(run("runs end --db r.db 0123456789abcdef0123456789abcdef "
                     "--status error"),
                 1);
    cr_expect_eq(run("runs end --db r.db x --status maybe"), 1);
    cr_expect_eq(run("runs list --db r.db"), 0);
    cr_expect_not_null(strstr(read_file("out.txt"), "\"events\":2}"));
    cr_expect_eq(run("runs"), 2);
}

Test(record_cli, default_policy_masks_credentials_in_free_text, .init = setup,
     .fini = teardown) {
    write_file("ev.jsonl", "{\"type\":\"out\",\"payload\":{\"note\":\"key "
                           "AKIAIOSFODNN7EXAMPLE\"}}\n");
    for (int off = 0; off < 2; off++) {
        char args[128];
        snprintf(args, sizeof(args),
                 "record --db r%d.db --entrypoint m.py%s ev.jsonl", off,
                 off ? " --no-detect" : "");
        cr_expect_eq(run(args), 0);
        char id[64];
        snprintf(id, sizeof(id), "%s", read_file("out.txt"));
        id[32] = '\0';
        snprintf(args, sizeof(args), "runs show --db r%d.db %s", off, id);
        cr_expect_eq(run(args), 0);
        const char *want = off ? "\"note\":\"key AKIAIOSFODNN7EXAMPLE\""
                               : "\"note\":\"key [REDACTED]\"";
        cr_expect_not_null(strstr(read_file("out.txt"), want), "%s",
                           read_file("out.txt"));
    }
}
