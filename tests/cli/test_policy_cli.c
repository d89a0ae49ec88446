/* tests/cli/test_policy_cli.c: the policy subcommands end to end (the
 * binary in SLUICE_CLI): exit statuses (0 data processed, 1 unreadable or
 * unparsable file, 2 usage), located messages, apply's stream handling
 * and its promise never to emit a record a policy dropped or redacted,
 * check's report, bench's JSON. */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SL_TEST_TMPDIR "/tmp/sluice-cli-XXXXXX"
#include "cli/tmpdir.h"
static char out[1 << 16], err[1 << 16];

TestSuite(cli, .init = make_dir, .fini = remove_dir);

static void put(const char *name, const char *text) {
    FILE *f = fopen(path(name), "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void slurp(const char *file, char *buf, size_t cap) {
    FILE *f = fopen(file, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f) {
        fclose(f);
    }
}

/* Run the shell command line in the test directory ($SLUICE_CLI names
 * the binary); capture stdout and stderr; return the exit status. */
static int run_sh(const char *line) {
    cr_assert_not_null(getenv("SLUICE_CLI"), "SLUICE_CLI is not set");
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "cd %s && (%s) > out.txt 2> err.txt", dir, line);
    int st = system(cmd);
    const char *args = line;
    slurp(path("out.txt"), out, sizeof(out));
    slurp(path("err.txt"), err, sizeof(err));
    cr_assert(WIFEXITED(st), "%s: %s", args, err);
    cr_assert_null(strstr(err, "Sanitizer"), "%s", err);
    return WEXITSTATUS(st);
}

/* Run `sluice ARGS` (ARGS may use shell redirection). */
static int run(const char *args) {
    char line[4096];
    snprintf(line, sizeof(line), "$SLUICE_CLI %s", args);
    return run_sh(line);
}

static const char policies[] =
    "{\"policies\":[\n"
    "{\"id\":\"drop-debug\",\"name\":\"n\",\"log\":{\"match\":[{\"log_"
    "field\":\"severity_text\",\"exact\":\"DEBUG\"}],\"keep\":\"none\"}},\n"
    "{\"id\":\"bad\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
    "\"body\",\"regex\":\"([x\"}]}},\n"
    "{\"id\":\"redact\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
    "\"body\",\"contains\":\"tok_\"}],\"transform\":{\"redact\":[{\"log_"
    "field\":\"body\",\"regex\":\"tok_[a-z0-9]+\",\"replacement\":\"tok_"
    "***\"}]}}}\n]}\n";

#define REC(sev, body) \
    "{\"severityText\":\"" sev "\",\"body\":{\"stringValue\":\"" body "\"}}"
#define REQ(recs) \
    "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[" recs "]}]}]}"

Test(cli, conform_runs_with_a_rejected_policy) {
    put("p.json", policies);
    put("in.json", REQ(REC("DEBUG", "x") "," REC("INFO", "a tok_abc1")));
    cr_assert_eq(run("conform --policies p.json --input in.json --output "
                     "o.json --stats s.json --signal log"),
                 0, "%s", err);
    cr_assert(strstr(err, "p.json:3:"), "%s", err);
    cr_assert(strstr(err, "policy bad: log: match[0]: invalid regex "
                          "\"([x\""),
              "%s", err);
    char o[4096], s[4096];
    slurp(path("o.json"), o, sizeof(o));
    slurp(path("s.json"), s, sizeof(s));
    cr_assert_null(strstr(o, "DEBUG"), "%s", o);
    cr_assert_null(strstr(o, "tok_abc1"), "%s", o);
    cr_assert(strstr(o, "tok_***"), "%s", o);
    cr_assert_str_eq(s, "{\"policies\":[{\"policy_id\":\"drop-debug\","
                        "\"hits\":1},{\"policy_id\":\"redact\",\"hits\":1}]}"
                        "\n");
}

Test(cli, conform_exit_statuses) {
    put("p.json", policies);
    put("in.json", REQ(REC("INFO", "x")));
    put("broken.json", "{\"policies\":[");
    cr_assert_eq(run("conform --policies broken.json --input in.json "
                     "--output o.json --stats s.json --signal log"),
                 1);
    cr_assert(strstr(err, "broken.json:1:"), "%s", err);
    cr_assert_eq(run("conform --policies p.json --input missing.json "
                     "--output o.json --stats s.json --signal log"),
                 1);
    cr_assert_eq(run("conform --policies p.json"), 2);
    cr_assert_eq(run("conform --policies p.json --input in.json --output "
                     "o.json --stats s.json --signal logs"),
                 2);
}

Test(cli, apply_stream_in_order_and_malformed_values_skipped) {
    put("p.json", policies);
    put("in.jsonl",
        REQ(REC("INFO",
                "one tok_a")) "\n"
                              "{\"resourceLogs\": [ oops\n" REQ(REC(
                                  "DEBUG",
                                  "gone")) "\n"
                                           "{\n  \"resourceLogs\": "
                                           "[{\"scopeLogs\": [{\"logRecords\":"
                                           " [\n    " REC(
                                               "INFO", "two") "\n  ]}]}]\n}\n");
    cr_assert_eq(run("apply --policies p.json in.jsonl"), 1, "%s", err);
    /* four values: the malformed one reported, the rest written in order */
    cr_assert(strstr(err, "in.jsonl:2:"), "%s", err);
    const char *one = strstr(out, "one tok_***");
    const char *two = strstr(out, "two");
    cr_assert(one && two && one < two, "%s", out);
    cr_assert_null(strstr(out, "gone"), "%s", out);
    cr_assert_null(strstr(out, "tok_a\""), "%s", out);
    int lines = 0;
    for (const char *p = out; *p; p++) {
        lines += *p == '\n';
    }
    cr_assert_eq(lines, 3, "%s", out); /* the emptied request is a line too */
    cr_assert(strstr(err, "drop-debug"), "%s", err); /* the summary */
}

Test(cli, apply_reads_stdin_and_writes_stats) {
    put("p.json", policies);
    put("in.json", REQ(REC("DEBUG", "x") "," REC("INFO", "y")));
    cr_assert_eq(run("apply --quiet --stats st.json --policies p.json "
                     "< in.json"),
                 0, "%s", err);
    cr_assert_null(strstr(out, "DEBUG"), "%s", out);
    char s[4096];
    slurp(path("st.json"), s, sizeof(s));
    cr_assert(strstr(s, "\"policy_id\":\"drop-debug\",\"hits\":1,\"kept\":0,"
                        "\"dropped\":1"),
              "%s", s);
}

Test(cli, check_reports_every_problem) {
    put("p.json", policies);
    put("ok.yaml", "policies:\n  - id: a\n    name: n\n    log:\n      "
                   "match:\n        - log_field: body\n          exists: "
                   "true\n");
    cr_assert_eq(run("check ok.yaml"), 0, "%s", err);
    cr_assert(strstr(out, "ok.yaml: 1 valid policy, 0 problems"), "%s", out);
    cr_assert_eq(run("check p.json ok.yaml"), 1);
    cr_assert(strstr(err, "p.json:3:"), "%s", err);
    cr_assert(strstr(out, "p.json: 2 valid policies, 1 problem"), "%s", out);
    put("empty.json", "");
    cr_assert_eq(run("check empty.json"), 1);
    cr_assert(strstr(err, "empty.json:"), "%s", err);
    cr_assert_eq(run("check"), 2);
}

Test(cli, check_warns_about_unread_selectors_but_passes) {
    put("w.yaml", "policies:\n  - id: w\n    name: n\n    trace:\n      "
                  "match:\n        - link_trace_id: ab\n");
    cr_assert_eq(run("check w.yaml"), 0, "%s", err);
    cr_assert(strstr(out, "w.yaml: 1 valid policy, 0 problems, 1 warning"),
              "%s", out);
    cr_assert(strstr(err, "w.yaml:6:26: warning: policy w: trace: match[0]: "
                          "link_trace_id is not implemented"),
              "%s", err);
}

Test(cli, bench_json) {
    put("p.json", policies);
    put("in.json", REQ(REC("DEBUG", "x") "," REC("INFO", "y")));
    cr_assert_eq(run("bench --policies p.json --input in.json --seconds 0.05 "
                     "--json"),
                 0, "%s", err);
    cr_assert_eq(strncmp(out,
                         "{\"records\": 2, \"policies\": 2, "
                         "\"ns_per_record\": ",
                         strlen("{\"records\": 2, \"policies\": 2, "
                                "\"ns_per_record\": ")),
                 0, "%s", out);
    cr_assert(strstr(out, "\"records_per_s\": "), "%s", out);
}

Test(cli, apply_drops_a_record_whose_redaction_cannot_finish) {
    /* (a+)+$ against "aaa...ab" hits PCRE2's match limit: the record must
     * not come out unredacted; the others still do */
    put("p.json", "{\"policies\":[{\"id\":\"r\",\"name\":\"n\",\"log\":{"
                  "\"match\":[{\"log_field\":\"body\",\"exists\":true}],"
                  "\"transform\":{\"redact\":[{\"log_field\":\"body\","
                  "\"regex\":\"(a+)+$\",\"replacement\":\"X\"}]}}}]}");
    put("in.json",
        REQ(REC("INFO", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab") "," REC(
            "INFO", "aaa")));
    cr_assert_eq(run("apply --stats st.json --policies p.json in.json"), 1,
                 "%s", err);
    cr_assert_null(strstr(out, "aab"), "%s", out);
    cr_assert(strstr(out, "\"stringValue\":\"X\""), "%s", out);
    cr_assert(strstr(err, "policy r: transform failed"), "%s", err);
    /* the counters tell the truth: one kept, one dropped by its failed
     * transform (not kept), one change */
    char s[4096];
    slurp(path("st.json"), s, sizeof(s));
    cr_assert_str_eq(s, "{\"policies\":[{\"policy_id\":\"r\",\"hits\":2,"
                        "\"kept\":1,\"dropped\":0,\"sampled_out\":0,"
                        "\"rate_limited\":0,\"transformed\":1,"
                        "\"transform_failed\":1}]}\n");
    cr_assert(strstr(err, " limited   failed  changes\n"), "%s", err);
    cr_assert(strstr(err, "\nr                                log           2"
                          "        0        1        0        0        0"
                          "        1        1\n"),
              "%s", err);
}

/* A pretty-printed request larger than the read window (1 MiB) between a
 * request that is valid JSON but not OTLP and a small one: the big one is
 * read across refills and every record is kept or dropped by the policy;
 * the bad one is named by its line and the stream goes on after it. */
Test(cli, apply_streams_values_larger_than_the_read_window) {
    put("p.json", policies);
    FILE *f = fopen(path("in.json"), "w");
    cr_assert_not_null(f);
    fputs("{\"resourceLogs\": 7}\n", f);
    fputs("{\n  \"resourceLogs\": [{\"scopeLogs\": [{\"logRecords\": [\n", f);
    enum {
        N = 20000
    };
    for (int i = 0; i < N; i++) {
        fprintf(f,
                "    %s{\"severityText\": \"%s\", \"body\": "
                "{\"stringValue\": \"record %d of a big request\"}}\n",
                i ? "," : "", i % 2 ? "DEBUG" : "INFO", i);
    }
    fputs("  ]}]}]\n}\n", f);
    fputs(REQ(REC("INFO", "the last")) "\n", f);
    fclose(f);
    cr_assert_eq(run("apply --quiet --policies p.json in.json"), 1, "%s", err);
    cr_assert(strstr(err, "in.json:1:"), "%s", err);
    cr_assert(strstr(err, "resourceLogs"), "%s", err);
    static char big[4 << 20];
    slurp(path("out.txt"), big, sizeof(big)); /* out holds only 64 KiB */
    size_t kept = 0, lines = 0;
    for (const char *p = big; (p = strstr(p, "of a big request")); p++) {
        kept++;
    }
    for (const char *p = big; *p; p++) {
        lines += *p == '\n';
    }
    cr_assert_eq(kept, N / 2);
    cr_assert_null(strstr(big, "DEBUG"));
    cr_assert_eq(lines, 2, "the big request and the last, one line each");
    cr_assert(strstr(big, "the last"));
}

/* Wait (bounded) until file holds at least `lines` newlines. */
static void wait_lines(const char *file, int lines) {
    for (int tries = 0; tries < 3000; tries++) {
        slurp(file, out, sizeof(out));
        int n = 0;
        for (const char *p = out; *p; p++) {
            n += *p == '\n';
        }
        if (n >= lines) {
            return;
        }
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    cr_assert_fail("%s: never reached %d lines: %s", file, lines, out);
}

static void send(int fd, const char *text) {
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
}

/* SIGHUP makes a running apply reload its policy files between two input
 * values: the next value sees the new policies, the counters of a kept id
 * go on from where they were, and a reload that fails keeps the old
 * policies. The SIGHUP is sent while apply waits on the pipe for the next
 * value; the handler has run before that value can be read. */
Test(cli, apply_reloads_policies_on_sighup) {
    const char *bin = getenv("SLUICE_CLI");
    cr_assert_not_null(bin);
    put("p.json",
        "{\"policies\":[{\"id\":\"drop-debug\",\"name\":\"n\",\"log\":"
        "{\"match\":[{\"log_field\":\"severity_text\",\"exact\":"
        "\"DEBUG\"}],\"keep\":\"none\"}}]}");
    int in[2];
    cr_assert_eq(pipe(in), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        dup2(in[0], 0);
        close(in[0]);
        close(in[1]);
        if (chdir(dir) != 0 || !freopen("out.txt", "w", stdout) ||
            !freopen("err.txt", "w", stderr)) {
            _exit(126);
        }
        execl(bin, bin, "apply", "--stats", "st.json", "--policies", "p.json",
              (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    send(in[1], REQ(REC("DEBUG", "one") "," REC("INFO", "one")) "\n");
    wait_lines(path("out.txt"), 1);
    cr_assert(strstr(out, "\"one\""), "%s", out);
    cr_assert_null(strstr(out, "DEBUG"), "%s", out);

    /* the same id with the same rule, and a new policy dropping INFO */
    put("p.json", "{\"policies\":[{\"id\":\"drop-info\",\"name\":\"n\",\"log\":"
                  "{\"match\":[{\"log_field\":\"severity_text\",\"exact\":"
                  "\"INFO\"}],\"keep\":\"none\"}},\n"
                  "{\"id\":\"drop-debug\",\"name\":\"n\",\"log\":"
                  "{\"match\":[{\"log_field\":\"severity_text\",\"exact\":"
                  "\"DEBUG\"}],\"keep\":\"none\"}}]}");
    cr_assert_eq(kill(pid, SIGHUP), 0);
    send(in[1], REQ(REC("DEBUG", "two") "," REC("INFO", "two") "," REC(
                    "WARN", "two")) "\n");
    wait_lines(path("out.txt"), 2);
    cr_assert_null(strstr(out, "\"INFO\",\"body\":{\"stringValue\":\"two"),
                   "%s", out);
    cr_assert(strstr(out, "\"WARN\""), "%s", out);

    /* a broken file: the reload fails, the policies in force stay */
    put("p.json", "{\"policies\":[");
    cr_assert_eq(kill(pid, SIGHUP), 0);
    send(in[1], REQ(REC("INFO", "three") "," REC("WARN", "three")) "\n");
    close(in[1]);
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    slurp(path("out.txt"), out, sizeof(out));
    slurp(path("err.txt"), err, sizeof(err));
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%d: %s", st, err);
    cr_assert_null(strstr(err, "Sanitizer"), "%s", err);
    cr_assert_null(strstr(out, "INFO\",\"body\":{\"stringValue\":\"three"),
                   "%s", out);
    cr_assert(strstr(out, "\"three\""), "%s", out);
    cr_assert(strstr(err, "sluice apply: policies reloaded: 2 valid, 0 "
                          "problem(s)\n"),
              "%s", err);
    cr_assert(strstr(err, "sluice apply: policy reload failed, keeping the "
                          "previous policies: p.json:1:14: "),
              "%s", err);
    cr_assert(strstr(err, "3 value(s), 7 record(s) in, 3 out"), "%s", err);
    cr_assert(strstr(err, "\ndrop-debug                       log           2"
                          "        0        0        2"),
              "%s", err);
    /* drop-debug counted before and after the reload; drop-info since */
    char s[4096];
    slurp(path("st.json"), s, sizeof(s));
    cr_assert_str_eq(s, "{\"policies\":[{\"policy_id\":\"drop-debug\","
                        "\"hits\":2,\"kept\":0,\"dropped\":2,\"sampled_out\":"
                        "0,\"rate_limited\":0,\"transformed\":0,"
                        "\"transform_failed\":0},{\"policy_id\":\"drop-info\","
                        "\"hits\":2,\"kept\":0,\"dropped\":2,\"sampled_out\":"
                        "0,\"rate_limited\":0,\"transformed\":0,"
                        "\"transform_failed\":0}]}\n");
}

/* A pretty-printed request arriving through a pipe in pieces, with
 * brackets and escaped quotes inside its strings: it is parsed once it is
 * whole (the bracket scan skips strings), and the value after it too. */
Test(cli, apply_reads_a_value_that_arrives_in_pieces) {
    put("p.json", policies);
    put("a.txt",
        "{\n \"resourceLogs\": [{\"scopeLogs\": [{\"logRecords\": [\n");
    put("b.txt", "  {\"severityText\": \"INFO\", \"body\": {\"stringValue\": "
                 "\"a } ] \\\" [ { tok_x\"}}\n");
    put("c.txt", " ]}]}]\n}\n" REQ(REC("INFO", "second")) "\n");
    cr_assert_eq(run_sh("(cat a.txt; sleep 0.2; cat b.txt; sleep 0.2; "
                        "cat c.txt) | $SLUICE_CLI apply --quiet --policies "
                        "p.json"),
                 0, "%s", err);
    cr_assert(strstr(out, "a } ] \\\" [ { tok_***"), "%s", out);
    cr_assert(strstr(out, "second"), "%s", out);
    int lines = 0;
    for (const char *p = out; *p; p++) {
        lines += *p == '\n';
    }
    cr_assert_eq(lines, 2, "%s", out);
}
