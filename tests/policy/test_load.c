/* tests/policy/test_load.c: loading policy documents: every accepted form
 * (snake_case / camelCase keys, short / full enum names, the three
 * attribute-path forms, typed literals, keeps, transforms, trace sampling
 * configs) and every rejection with its exact message and line:col; the
 * valid policies of a file keep working when others are rejected. */
#include <criterion/criterion.h>

#include <stdio.h>

#include "policy/private.h"

static sl_policy_set *load_text(const char *text) {
    sl_doc *doc = sl_doc_new();
    cr_assert_not_null(doc);
    sl_error err = {0};
    sl_status rc = sl_doc_load(doc, text, strlen(text), SL_FORMAT_JSON,
                               "p.json", NULL, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    sl_policy_set *set = NULL;
    rc = sl_policy_load((const sl_doc *const *)&doc, 1, NULL, &set, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    sl_doc_free(doc);
    return set;
}

/* One policy per line: line numbers in messages are the policy's line. */
static void expect_problem(const char *text, const char *msg, uint32_t line,
                           uint32_t col) {
    sl_policy_set *set = load_text(text);
    cr_assert_geq(sl_policy_problem_count(set), 1, "no problem for %s", msg);
    const sl_error *e = sl_policy_problem(set, 0);
    cr_assert_str_eq(e->msg, msg);
    cr_assert_str_eq(e->file, "p.json");
    if (line) {
        cr_assert_eq(e->line, line, "%s: line %u", msg, e->line);
        cr_assert_eq(e->col, col, "%s: col %u", msg, e->col);
    }
    sl_policy_set_free(set);
}

Test(load, snake_and_camel_keys_and_enum_forms) {
    sl_policy_set *set = load_text(
        "{\"policies\":["
        "{\"id\":\"b\",\"name\":\"n\",\"log\":{\"match\":[{\"logField\":"
        "\"LOG_FIELD_BODY\",\"startsWith\":\"x\",\"caseInsensitive\":true}],"
        "\"keep\":\"none\"}},"
        "{\"id\":\"a\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
        "\"severity_text\",\"exact\":\"DEBUG\"}],\"keep\":\"all\"}},"
        "{\"id\":\"c\",\"name\":\"n\",\"metric\":{\"match\":[{\"metric_type\":"
        "\"exponential_histogram\"},{\"aggregationTemporality\":"
        "\"AGGREGATION_TEMPORALITY_DELTA\"}],\"keep\":false}},"
        "{\"id\":\"d\",\"name\":\"n\",\"trace\":{\"match\":[{\"span_kind\":"
        "\"SPAN_KIND_SERVER\"},{\"span_status\":\"SPAN_STATUS_CODE_UNSET\"},"
        "{\"traceField\":\"TRACE_FIELD_NAME\",\"regex\":\"^GET\"}],"
        "\"keep\":{\"percentage\":50,\"mode\":\"SAMPLING_MODE_EQUALIZING\","
        "\"samplingPrecision\":8,\"hashSeed\":3,\"failClosed\":false}}}]}");
    cr_assert_eq(sl_policy_problem_count(set), 0, "%s",
                 sl_policy_problem(set, 0)->msg);
    cr_assert_eq(sl_policy_count(set), 4);
    cr_assert_str_eq(sl_policy_id(set, 0), "a"); /* sorted by id */
    cr_assert_str_eq(sl_policy_id(set, 3), "d");
    cr_assert_eq(sl_policy_signal(set, 2), SL_SIGNAL_METRIC);
    const sl__policy *d = &set->policies[3];
    cr_assert_eq(d->mode, SL_MODE_EQUALIZING);
    cr_assert_eq(d->precision, 8);
    cr_assert_eq(d->seed, 3);
    cr_assert_not(d->fail_closed);
    cr_assert_eq(d->keep.kind, SL_KEEP_PERCENT);
    cr_assert_str_eq(d->matchers[1].text, "SPAN_STATUS_CODE_UNSPECIFIED");
    cr_assert_str_eq(set->policies[2].matchers[0].text,
                     "METRIC_TYPE_EXPONENTIAL_HISTOGRAM");
    cr_assert(set->policies[1].matchers[0].caseless);
    sl_policy_set_free(set);
}

Test(load, attribute_path_forms) {
    sl_policy_set *set = load_text(
        "{\"policies\":[{\"id\":\"a\",\"name\":\"n\",\"log\":{\"match\":["
        "{\"log_attribute\":\"svc\",\"exists\":true},"
        "{\"resource_attribute\":[\"cloud\",\"region\"],\"exact\":\"x\"},"
        "{\"scope_attribute\":{\"path\":[\"a\",\"b\",\"c\"]},\"exists\":"
        "false}]}}]}");
    cr_assert_eq(sl_policy_problem_count(set), 0);
    const sl__policy *p = &set->policies[0];
    cr_assert_eq(p->matchers[0].field.kind, SL_FIELD_ATTR);
    cr_assert_eq(p->matchers[0].field.path_len, 1);
    cr_assert_eq(p->matchers[1].field.kind, SL_FIELD_RESOURCE_ATTR);
    cr_assert_eq(p->matchers[1].field.path_len, 2);
    cr_assert_eq(p->matchers[2].field.kind, SL_FIELD_SCOPE_ATTR);
    cr_assert_eq(p->matchers[2].field.path_len, 3);
    cr_assert_eq(p->nmatchers, 3);
    cr_assert(!p->matchers[0].negate && !p->matchers[2].negate);
    cr_assert_eq(p->keep.kind, SL_KEEP_ALL); /* keep absent: all */
    sl_policy_set_free(set);
}

Test(load, typed_literals) {
    sl_policy_set *set = load_text(
        "{\"policies\":[{\"id\":\"a\",\"name\":\"n\",\"log\":{\"match\":["
        "{\"log_attribute\":\"a\",\"equals\":true},"
        "{\"log_attribute\":\"b\",\"equals\":200},"
        "{\"log_attribute\":\"c\",\"gt\":0.5},"
        "{\"log_attribute\":\"d\",\"lte\":{\"int_value\":\"-7\"}},"
        "{\"log_attribute\":\"e\",\"equals\":{\"bytes_value\":\"AQI=\"}},"
        "{\"log_attribute\":\"f\",\"equals\":{\"hex_value\":\"0aFF\"}},"
        "{\"log_attribute\":\"g\",\"lt\":{\"double_value\":1e3}}]}}]}");
    cr_assert_eq(sl_policy_problem_count(set), 0, "%s",
                 sl_policy_problem(set, 0)->msg);
    const sl__matcher *m = set->policies[0].matchers;
    cr_assert_eq(m[0].typed.lit.type, SL_VALUE_BOOL);
    cr_assert_eq(m[1].typed.lit.type, SL_VALUE_INT);
    cr_assert_eq(m[1].typed.lit.i, 200);
    cr_assert_eq(m[2].typed.op, SL_TYPED_GT);
    cr_assert_eq(m[2].typed.lit.type, SL_VALUE_DOUBLE);
    cr_assert_eq(m[3].typed.lit.i, -7);
    cr_assert_eq(m[4].typed.lit.s.len, 2);
    cr_assert_eq(m[4].typed.lit.s.ptr[1], 2);
    cr_assert_eq(m[5].typed.lit.s.len, 2);
    cr_assert_eq((unsigned char)m[5].typed.lit.s.ptr[1], 0xff);
    cr_assert_float_eq(m[6].typed.lit.d, 1000.0, 1e-9);
    sl_policy_set_free(set);
}

Test(load, transforms_and_sample_key) {
    sl_policy_set *set = load_text(
        "{\"policies\":[{\"id\":\"a\",\"name\":\"n\",\"log\":{\"match\":["
        "{\"log_field\":\"body\",\"exists\":true}],\"keep\":\"25%\","
        "\"sample_key\":{\"log_attribute\":\"request_id\"},"
        "\"transform\":{\"add\":[{\"log_attribute\":\"x\",\"value\":\"1\"}],"
        "\"rename\":[{\"from_log_attribute\":\"usr\",\"to\":\"user\","
        "\"upsert\":true}],\"redact\":[{\"log_field\":\"body\",\"regex\":"
        "\"(?P<k>key)=\\\\w+\",\"replacement\":\"${k}=x\"}],\"remove\":["
        "{\"scope_attribute\":\"s\"}]}}}]}");
    cr_assert_eq(sl_policy_problem_count(set), 0, "%s",
                 sl_policy_problem(set, 0)->msg);
    const sl__policy *p = &set->policies[0];
    cr_assert(p->has_sample_key);
    cr_assert_eq(p->nops, 4);
    /* always remove, redact, rename, add whatever the file's order */
    cr_assert_eq(p->ops[0].kind, SL_OP_REMOVE);
    cr_assert_eq(p->ops[1].kind, SL_OP_REDACT);
    cr_assert_not_null(p->ops[1].re);
    cr_assert_eq(p->ops[2].kind, SL_OP_RENAME);
    cr_assert(p->ops[2].upsert);
    cr_assert_eq(p->ops[3].kind, SL_OP_ADD);
    sl_policy_set_free(set);
}

Test(load, enabled_defaults_to_true) {
    sl_policy_set *set = load_text(
        "{\"policies\":[{\"id\":\"a\",\"name\":\"n\",\"log\":{\"match\":["
        "{\"log_field\":\"body\",\"exists\":true}]}},"
        "{\"id\":\"b\",\"name\":\"n\",\"enabled\":false,\"log\":{\"match\":"
        "[{\"log_field\":\"body\",\"exists\":true}]}}]}");
    cr_assert(set->policies[0].enabled);
    cr_assert_not(set->policies[1].enabled);
    sl_policy_set_free(set);
}

#define POL(body)                                                         \
    "{\"policies\":[\n{\"id\":\"ok\",\"name\":\"n\",\"log\":{\"match\":[" \
    "{\"log_field\":\"body\",\"exists\":true}]}},\n" body "\n]}"

Test(errors, no_matchers) {
    expect_problem(POL("{\"id\":\"p\",\"name\":\"n\",\"log\":{\"match\":[],"
                       "\"keep\":\"none\"}}"),
                   "policy p: log: no matchers specified", 3, 37);
    expect_problem(POL("{\"id\":\"p\",\"name\":\"n\",\"log\":{\"keep\":"
                       "\"none\"}}"),
                   "policy p: log: no matchers specified", 3, 28);
}

Test(errors, invalid_regex_names_pattern) {
    sl_policy_set *set = load_text(
        POL("{\"id\":\"p\",\"name\":\"n\",\"trace\":{\"match\":[{\"trace_"
            "field\":\"name\",\"regex\":\"([bad\"}]}}"));
    cr_assert_eq(sl_policy_count(set), 1); /* the valid one stays */
    cr_assert_eq(sl_policy_problem_count(set), 1);
    const sl_error *e = sl_policy_problem(set, 0);
    const char *want = "policy p: trace: match[0]: invalid regex \"([bad\": ";
    cr_assert_eq(strncmp(e->msg, want, strlen(want)), 0, "%s", e->msg);
    cr_assert_eq(e->line, 3);
    sl_policy_set_free(set);
}

Test(errors, every_bad_matcher_is_reported) {
    sl_policy_set *set =
        load_text(POL("{\"id\":\"p\",\"name\":\"n\",\"log\":{\"match\":["
                      "{\"log_field\":\"body\",\"regex\":\"([one\"},"
                      "{\"log_field\":\"body\",\"regex\":\"([two\"}]}}"));
    cr_assert_eq(sl_policy_problem_count(set), 2);
    cr_assert(strstr(sl_policy_problem(set, 0)->msg, "match[0]"));
    cr_assert(strstr(sl_policy_problem(set, 1)->msg, "match[1]"));
    sl_policy_set_free(set);
}

Test(errors, empty_attribute_path) {
    expect_problem(POL("{\"id\":\"p\",\"name\":\"n\",\"log\":{\"match\":[{"
                       "\"logAttribute\":{},\"exists\":true}]}}"),
                   "policy p: log: match[0]: attribute has empty path", 3, 54);
    expect_problem(POL("{\"id\":\"p\",\"name\":\"n\",\"log\":{\"match\":[{"
                       "\"log_attribute\":[],\"exists\":true}]}}"),
                   "policy p: log: match[0]: attribute has empty path", 3, 55);
}

Test(errors, keep_values) {
    expect_problem(POL("{\"id\":\"p\",\"name\":\"n\",\"log\":{\"match\":[{"
                       "\"log_field\":\"body\",\"exists\":true}],\"keep\":"
                       "\"sometimes\"}}"),
                   "policy p: log: keep: invalid keep value \"sometimes\"", 3,
                   81);
    expect_problem(POL("{\"id\":\"p\",\"name\":\"n\",\"metric\":{\"match\":[{"
                       "\"metric_field\":\"name\",\"exists\":true}],\"keep\":"
                       "\"none\"}}"),
                   "policy p: metric: keep: must be a boolean", 3, 87);
}

Test(errors, unknown_field_and_enum) {
    expect_problem(POL("{\"id\":\"p\",\"name\":\"n\",\"log\":{\"match\":[{"
                       "\"log_field\":\"body\",\"exists\":true,\"negat\":"
                       "true}]}}"),
                   "policy p: log: match[0]: unknown field \"negat\"", 3, 72);
    expect_problem(POL("{\"id\":\"p\",\"name\":\"n\",\"log\":{\"match\":[{"
                       "\"log_field\":\"bodyy\",\"exists\":true}]}}"),
                   "policy p: log: match[0]: unknown log_field \"bodyy\"", 3,
                   51);
}

Test(errors, missing_condition_and_target) {
    expect_problem(POL("{\"id\":\"p\",\"name\":\"n\",\"log\":{\"match\":[{"
                       "\"log_field\":\"body\"}]}}"),
                   "policy p: log: match[0]: no match condition specified", 3,
                   38);
    expect_problem(POL("{\"id\":\"p\",\"name\":\"n\"}"),
                   "policy p: no target specified (log, metric or trace)", 3,
                   1);
    expect_problem(POL("{\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
                       "\"body\",\"exists\":true}]}}"),
                   "policy [1]: missing id", 3, 1);
}

Test(errors, typed_literal_rejections) {
    expect_problem(POL("{\"id\":\"p\",\"name\":\"n\",\"log\":{\"match\":[{"
                       "\"log_attribute\":\"a\",\"equals\":\"x\"}]}}"),
                   "policy p: log: match[0]: equals: string values are not "
                   "supported (use exact)",
                   3, 68);
    expect_problem(POL("{\"id\":\"p\",\"name\":\"n\",\"log\":{\"match\":[{"
                       "\"log_attribute\":\"a\",\"gt\":true}]}}"),
                   "policy p: log: match[0]: gt must be a number", 3, 64);
    expect_problem(POL("{\"id\":\"p\",\"name\":\"n\",\"log\":{\"match\":[{"
                       "\"log_attribute\":\"a\",\"equals\":{}}]}}"),
                   "policy p: log: match[0]: equals: empty value", 3, 68);
}

Test(errors, duplicate_id) {
    sl_policy_set *set = load_text(
        POL("{\"id\":\"ok\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
            "\"body\",\"exists\":true}]}}"));
    cr_assert_eq(sl_policy_count(set), 1);
    cr_assert_eq(sl_policy_problem_count(set), 1);
    cr_assert_str_eq(sl_policy_problem(set, 0)->msg,
                     "policy ok: duplicate id (first defined at 2:1)");
    sl_policy_set_free(set);
}

Test(errors, not_a_policy_document) {
    const char *texts[] = {"[]", "{\"policy\":[]}", "{\"policies\":{}}", "42"};
    for (size_t i = 0; i < 4; i++) {
        sl_doc *doc = sl_doc_new();
        sl_error err = {0};
        cr_assert_eq(sl_doc_load(doc, texts[i], strlen(texts[i]),
                                 SL_FORMAT_JSON, "x.json", NULL, &err),
                     SL_OK);
        sl_policy_set *set = NULL;
        cr_assert_eq(
            sl_policy_load((const sl_doc *const *)&doc, 1, NULL, &set, &err),
            SL_ESCHEMA);
        cr_assert_null(set);
        cr_assert_str_eq(err.msg,
                         "expected an object with a \"policies\" array");
        sl_doc_free(doc);
    }
}

Test(errors, unreadable_file_is_fatal) {
    const char *path = "/nonexistent/policies.json";
    sl_policy_set *set = NULL;
    sl_error err = {0};
    cr_assert_eq(sl_policy_load_files(&path, 1, NULL, &set, &err), SL_EIO);
    cr_assert_null(set);
    cr_assert_str_eq(err.file, path);
}

/* ---- allocation failures ---- */

static long fail_at = -1, allocs = 0;

static void *t_alloc(void *ctx, size_t n) {
    (void)ctx;
    if (fail_at >= 0 && allocs++ == fail_at) {
        return NULL;
    }
    return malloc(n);
}

static void *t_realloc(void *ctx, void *p, size_t o, size_t n) {
    (void)ctx;
    (void)o;
    if (fail_at >= 0 && allocs++ == fail_at) {
        return NULL;
    }
    return realloc(p, n);
}

static void t_free(void *ctx, void *p, size_t n) {
    (void)ctx;
    (void)n;
    free(p);
}

Test(oom, every_allocation_failure_is_reported) {
    static const char text[] =
        POL("{\"id\":\"p\",\"name\":\"n\",\"log\":{\"match\":[{\"log_field\":"
            "\"body\",\"contains\":\"x\"},{\"log_attribute\":[\"a\",\"b\"],"
            "\"gt\":1}],\"keep\":\"5/s\",\"transform\":{\"redact\":[{\"log_"
            "field\":\"body\",\"regex\":\"x+\",\"replacement\":\"y\"}]}}}");
    sl_allocator a = {t_alloc, t_realloc, t_free, NULL};
    sl_set_allocator(&a);
    bool done = false;
    for (long n = 0; n < 10000 && !done; n++) {
        fail_at = -1;
        sl_doc *doc = sl_doc_new();
        sl_error err = {0};
        cr_assert_not_null(doc);
        cr_assert_eq(sl_doc_load(doc, text, strlen(text), SL_FORMAT_JSON,
                                 "p.json", NULL, &err),
                     SL_OK);
        allocs = 0;
        fail_at = n;
        sl_policy_set *set = NULL;
        sl_status rc =
            sl_policy_load((const sl_doc *const *)&doc, 1, NULL, &set, &err);
        sl_policy_ctx *ctx = NULL;
        if (rc == SL_OK) {
            rc = sl_policy_ctx_new(set, &ctx, &err);
            sl_policy_ctx_free(ctx);
        }
        fail_at = -1;
        if (rc == SL_OK) {
            done = allocs <= n; /* ran through without hitting the fault */
        } else {
            cr_assert_eq(rc, SL_ENOMEM, "n=%ld: %s", n, err.msg);
        }
        sl_policy_set_free(set);
        sl_doc_free(doc);
    }
    sl_set_allocator(NULL);
    cr_assert(done);
}

/* Vectorscan compiles `^.*$` (anchored, can match "") and policy-rs with
 * it; it rejects `.*` and `a*`; `^$` is rejected as CLARIFICATIONS say. */
Test(errors, empty_matching_regexes) {
    static const struct {
        const char *re;
        bool ok;
    } cases[] = {{"^.*$", true},       {"(?i)^.*$", true}, {"^\\\\s*$", true},
                 {"(?P<k>a*)$", true}, {".*", false},      {"a*", false},
                 {"^$", false},        {"[$]*", false},    {"(x|)", false}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text),
                 "{\"policies\":[{\"id\":\"p\",\"name\":\"n\",\"log\":{"
                 "\"match\":[{\"log_field\":\"body\",\"regex\":\"%s\"}]}}]}",
                 cases[i].re);
        sl_policy_set *set = load_text(text);
        cr_assert_eq(sl_policy_count(set), cases[i].ok ? 1 : 0, "%s",
                     cases[i].re);
        if (!cases[i].ok) {
            cr_assert(strstr(sl_policy_problem(set, 0)->msg,
                             "Pattern matches empty buffer"),
                      "%s", sl_policy_problem(set, 0)->msg);
        }
        sl_policy_set_free(set);
    }
}

static sl_policy_set *load_fmt(const char *text, sl_format fmt,
                               const char *file) {
    sl_doc *doc = sl_doc_new();
    sl_error err = {0};
    cr_assert_eq(sl_doc_load(doc, text, strlen(text), fmt, file, NULL, &err),
                 SL_OK, "%s", err.msg);
    sl_policy_set *set = NULL;
    cr_assert_eq(
        sl_policy_load((const sl_doc *const *)&doc, 1, NULL, &set, &err), SL_OK,
        "%s", err.msg);
    sl_doc_free(doc);
    return set;
}

Test(load, yaml_policies_with_located_problems) {
    sl_policy_set *set =
        load_fmt("policies:\n"
                 "  - id: drop-debug\n"
                 "    name: n\n"
                 "    log:\n"
                 "      match:\n"
                 "        - logField: LOG_FIELD_SEVERITY_TEXT\n"
                 "          exact: DEBUG\n"
                 "      keep: none\n"
                 "  - id: bad\n"
                 "    name: n\n"
                 "    log:\n"
                 "      match:\n"
                 "        - log_attribute: {path: [a, b]}\n"
                 "          exists: true\n"
                 "      keep: 5/fortnight\n",
                 SL_FORMAT_YAML, "p.yaml");
    cr_assert_eq(sl_policy_count(set), 1);
    cr_assert_str_eq(sl_policy_id(set, 0), "drop-debug");
    cr_assert_eq(sl_policy_problem_count(set), 1);
    const sl_error *e = sl_policy_problem(set, 0);
    cr_assert_str_eq(e->msg, "policy bad: log: keep: invalid rate limit unit "
                             "in \"5/fortnight\"");
    cr_assert_str_eq(e->file, "p.yaml");
    cr_assert_eq(e->line, 15);
    cr_assert_eq(e->col, 13);
    sl_policy_set_free(set);
}

Test(load, toml_policies) {
    sl_policy_set *set = load_fmt(
        "[[policies]]\n"
        "id = \"t\"\n"
        "name = \"n\"\n"
        "[policies.trace]\n"
        "match = [{ span_kind = \"server\" }, { span_attribute = [\"a\"], "
        "gte = 3 }]\n"
        "keep = { percentage = 12.5, mode = \"proportional\" }\n",
        SL_FORMAT_TOML, "p.toml");
    cr_assert_eq(sl_policy_problem_count(set), 0, "%s",
                 sl_policy_problem(set, 0)->msg);
    const sl__policy *p = &set->policies[0];
    cr_assert_eq(p->signal, SL_SIGNAL_TRACE);
    cr_assert_eq(p->mode, SL_MODE_PROPORTIONAL);
    cr_assert_float_eq(p->keep.ratio, 0.125, 1e-9);
    cr_assert_str_eq(p->matchers[0].text, "SPAN_KIND_SERVER");
    cr_assert_eq(p->matchers[1].typed.op, SL_TYPED_GTE);
    sl_policy_set_free(set);
}
