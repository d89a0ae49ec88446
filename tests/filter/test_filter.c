/* tests/filter/test_filter.c: the trace-filter engine: selector grammar and
 * each match form, schema errors (code, message and line:col), chain
 * composition, module-name derivation, resolution precedence, sluice's
 * deliberate difference in value-pattern precedence, the drop rule,
 * counters, metadata, and allocation failure while loading. */
/* realpath(), mkdtemp(), setenv() */
#define _XOPEN_SOURCE 700

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "filter/private.h"

#define HDR "[meta]\nname = \"t\"\nversion = 1\n"
#define SCOPE_TA \
    "[scope]\ndefault_exec = \"trace\"\ndefault_value_action = \"allow\"\n"

/* ---- helpers ---- */

typedef struct env {
    sl_filter *f;
    sl_filter_ctx *ctx;
} env;

static sl_status load(env *e, bool builtin, const char *text, sl_error *err) {
    e->f = sl_filter_new();
    e->ctx = NULL;
    cr_assert_not_null(e->f);
    sl_status rc = SL_OK;
    if (builtin) {
        rc = sl_filter_add_builtin(e->f, "builtin-default", err);
        cr_assert_eq(rc, SL_OK, "%s", err->msg);
    }
    if (text) {
        rc = sl_filter_add_text(e->f, "t", text, strlen(text), err);
        if (rc != SL_OK) {
            return rc;
        }
    }
    rc = sl_filter_ready(e->f, err);
    if (rc != SL_OK) {
        return rc;
    }
    return sl_filter_ctx_new(e->f, &e->ctx, err);
}

static void env_free(env *e) {
    sl_filter_ctx_free(e->ctx);
    sl_filter_free(e->f);
}

static void must_load(env *e, bool builtin, const char *text) {
    sl_error err = {0};
    sl_status rc = load(e, builtin, text, &err);
    cr_assert_eq(rc, SL_OK, "%s:%u:%u: %s", err.file, err.line, err.col,
                 err.msg);
}

static const sl_filter_scope *scope(env *e, const char *file, const char *qual,
                                    const char *hint) {
    const sl_filter_scope *s = NULL;
    sl_error err = {0};
    cr_assert_eq(sl_filter_classify(e->ctx, file, qual, hint, &s, &err), SL_OK,
                 "%s", err.msg);
    cr_assert_not_null(s);
    return s;
}

static sl_filter_action decide(env *e, const sl_filter_scope *s,
                               sl_filter_kind k, const char *name) {
    return sl_filter_decide(e->ctx, s, k, name, strlen(name));
}

/* A one-rule filter: rule selector sel sets exec = "skip". */
static bool scope_matches(const char *sel, const char *file, const char *qual,
                          const char *hint) {
    char text[1024];
    snprintf(text, sizeof(text),
             HDR SCOPE_TA "[[scope.rules]]\nselector = '%s'\nexec = "
                          "\"skip\"\n",
             sel);
    env e;
    must_load(&e, false, text);
    bool m =
        sl_filter_scope_exec(scope(&e, file, qual, hint)) == SL_FILTER_SKIP;
    env_free(&e);
    return m;
}

/* A one-pattern filter on pkg:glob:*; does value selector sel match? */
static bool value_matches(const char *sel, sl_filter_kind k, const char *name) {
    char text[1024];
    snprintf(text, sizeof(text),
             HDR SCOPE_TA "[[scope.rules]]\nselector = 'pkg:glob:*'\n"
                          "[[scope.rules.value_patterns]]\nselector = '%s'\n"
                          "action = \"drop\"\n",
             sel);
    env e;
    must_load(&e, false, text);
    const sl_filter_scope *s = scope(&e, "/x/m.py", "f", "m");
    bool m = decide(&e, s, k, name) == SL_FILTER_DROP;
    env_free(&e);
    return m;
}

/* Load text and expect a failure with code, message and line:col. */
static void expect_error(const char *text, sl_status code, uint32_t line,
                         uint32_t col, const char *msg) {
    env e;
    sl_error err = {0};
    sl_status rc = load(&e, false, text, &err);
    cr_assert_eq(rc, code, "got %d: %s", rc, err.msg);
    cr_assert_str_eq(err.msg, msg);
    cr_assert_eq(err.line, line, "line %u, want %u (%s)", err.line, line,
                 err.msg);
    cr_assert_eq(err.col, col, "col %u, want %u (%s)", err.col, col, err.msg);
    cr_assert_str_eq(err.file, "<inline:t>");
    env_free(&e);
}

/* ---- selector grammar (upstream selector.rs, selector_cases.json) ---- */

static void selector_error(const char *raw, unsigned allowed,
                           const char *want) {
    sl_arena a;
    sl__arena_init(&a);
    sl__selector sel = {0};
    char msg[256] = "";
    sl_status rc = sl__filter_selector_parse(&a, raw, strlen(raw), allowed,
                                             &sel, msg, sizeof(msg));
    cr_assert_eq(rc, SL_ESCHEMA, "%s", raw);
    cr_assert_str_eq(msg, want);
    sl__arena_free(&a);
}

Test(selector, grammar_errors_are_upstream_strings) {
    unsigned all = 0xFF;
    selector_error("", all, "selector string is empty");
    selector_error("pkg", all, "selector missing pattern");
    selector_error("unknown:foo", all, "unsupported selector kind 'unknown'");
    selector_error("pkg:foo", 1u << SL__SEL_LOCAL,
                   "selector kind 'pkg' is not allowed in this context");
    selector_error("pkg::foo", all, "selector match type cannot be empty");
    selector_error("pkg:invalid:foo", all,
                   "unsupported selector match type 'invalid'");
    selector_error("pkg:my_app:foo", all,
                   "unsupported selector match type 'my_app'");
    selector_error("pkg:", all, "selector pattern cannot be empty");
    selector_error("pkg:glob:", all, "selector pattern cannot be empty");
}

Test(selector, default_match_is_glob_and_colons_stay_in_pattern) {
    sl_arena a;
    sl__arena_init(&a);
    sl__selector sel = {0};
    char msg[256];
    cr_assert_eq(sl__filter_selector_parse(&a, "local:user_*", 12, 0xFF, &sel,
                                           msg, sizeof(msg)),
                 SL_OK);
    cr_assert_eq(sel.kind, SL__SEL_LOCAL);
    cr_assert_eq(sel.match, SL__MATCH_GLOB);
    cr_assert_str_eq(sel.pat, "user_*");
    cr_assert_str_eq(sel.raw, "local:glob:user_*");
    cr_assert_eq(sl__filter_selector_parse(&a, "pkg:glob:a:b", 12, 0xFF, &sel,
                                           msg, sizeof(msg)),
                 SL_OK);
    cr_assert_str_eq(sel.pat, "a:b");
    sl__arena_free(&a);
}

Test(selector, glob_is_anchored_and_star_crosses_dots_not_slashes) {
    cr_assert(scope_matches("pkg:my_app.core.*", "/x/a.py", "f",
                            "my_app.core.services"));
    cr_assert(scope_matches("pkg:my_app.*", "/x/a.py", "f", "my_app.a.b.c"));
    cr_assert_not(
        scope_matches("pkg:my_app.core.*", "/x/a.py", "f", "other.module"));
    cr_assert(scope_matches("pkg:glob:*", "/x/a.py", "f", "__main__"));
    cr_assert_not(scope_matches("pkg:core", "/x/a.py", "f", "my_app.core"));
    cr_assert(scope_matches("file:glob:bench_pkg/jobs/worker/module_*.py",
                            "bench_pkg/jobs/worker/module_3.py", "f", NULL));
    cr_assert_not(scope_matches("file:glob:bench_pkg/jobs/worker/module_*.py",
                                "bench_pkg/jobs/worker/sub/module_3.py", "f",
                                NULL));
}

Test(selector, glob_double_star_classes_and_braces) {
    cr_assert(scope_matches("file:glob:**/test_*.py", "test_a.py", "f", NULL));
    cr_assert(scope_matches("file:glob:**/test_*.py", "tests/unit/test_a.py",
                            "f", NULL));
    cr_assert_not(scope_matches("file:glob:**/test_*.py",
                                "tests/unit/helper.py", "f", NULL));
    cr_assert(value_matches("local:glob:[ab]x", SL_FILTER_LOCAL, "bx"));
    cr_assert_not(value_matches("local:glob:[!ab]x", SL_FILTER_LOCAL, "bx"));
    cr_assert(
        value_matches("local:glob:{foo,bar}_id", SL_FILTER_LOCAL, "bar_id"));
    cr_assert(value_matches("local:glob:user_?", SL_FILTER_LOCAL, "user_1"));
    cr_assert_not(
        value_matches("local:glob:user_?", SL_FILTER_LOCAL, "user_12"));
}

Test(selector, literal_is_exact_and_case_sensitive) {
    cr_assert(value_matches("arg:literal:debug_payload", SL_FILTER_ARG,
                            "debug_payload"));
    cr_assert_not(value_matches("arg:literal:debug_payload", SL_FILTER_ARG,
                                "Debug_payload"));
    cr_assert_not(value_matches("arg:literal:debug_payload", SL_FILTER_ARG,
                                "debug_payload2"));
    cr_assert(scope_matches("file:literal:src/services/api.py",
                            "src/services/api.py", "f", NULL));
    cr_assert_not(scope_matches("file:literal:src/services/api.py",
                                "src/services/API.py", "f", NULL));
}

Test(selector, regex_is_an_unanchored_search) {
    cr_assert(value_matches("local:regex:token", SL_FILTER_LOCAL, "token"));
    cr_assert(
        value_matches("local:regex:token", SL_FILTER_LOCAL, "my_token_2"));
    /* no module can be derived, so the object name is the qualname */
    cr_assert(scope_matches("obj:regex:^my_app::service::[A-Z]\\w+$",
                            "/x-y/z-q.py", "my_app::service::Handler", NULL));
    cr_assert_not(scope_matches("obj:regex:^my_app::service::[A-Z]\\w+$",
                                "/x-y/z-q.py", "my_app.service.Handler", NULL));
    cr_assert(
        value_matches("local:regex:(?i)^api_key$", SL_FILTER_LOCAL, "API_KEY"));
}

Test(selector, value_kind_only_matches_its_kind) {
    cr_assert_not(value_matches("arg:password", SL_FILTER_LOCAL, "password"));
    cr_assert(value_matches("arg:password", SL_FILTER_ARG, "password"));
    cr_assert(
        value_matches("ret:literal:app.sec.f", SL_FILTER_RET, "app.sec.f"));
    cr_assert(value_matches("attr:x", SL_FILTER_ATTR, "x"));
    cr_assert(value_matches("global:x", SL_FILTER_GLOBAL, "x"));
}

Test(selector, builtin_secret_regex_has_substring_semantics) {
    env e;
    must_load(&e, true, NULL);
    const sl_filter_scope *s = scope(&e, "/proj/app.py", "f", "app");
    const char *hit[] = {"password",  "API_KEY", "session_id",
                         "company",   "author",  "discard",
                         "classname", "expand",  "span"};
    for (size_t i = 0; i < SL_ARRAY_LEN(hit); i++) {
        cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, hit[i]), SL_FILTER_REDACT,
                     "%s", hit[i]);
    }
    const char *miss[] = {"user", "total", "x"};
    for (size_t i = 0; i < SL_ARRAY_LEN(miss); i++) {
        cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, miss[i]), SL_FILTER_ALLOW,
                     "%s", miss[i]);
    }
    env_free(&e);
}

/* ---- schema errors: exact message and position ---- */

Test(schema, unknown_exec_value) {
    expect_error(HDR SCOPE_TA "[[scope.rules]]\nselector = \"pkg:x\"\n"
                              "exec = \"skipp\"\n",
                 SL_ESCHEMA, 9, 8,
                 "unsupported value 'skipp' for 'exec' in <inline:t> "
                 "scope.rules[0]");
}

Test(schema, unknown_value_default_and_action) {
    expect_error(HDR SCOPE_TA "[[scope.rules]]\nselector = \"pkg:x\"\n"
                              "value_default = \"keep\"\n",
                 SL_ESCHEMA, 9, 17,
                 "unsupported value 'keep' for 'value_default' in "
                 "<inline:t> scope.rules[0]");
    expect_error(HDR SCOPE_TA "[[scope.rules]]\nselector = \"pkg:x\"\n"
                              "[[scope.rules.value_patterns]]\n"
                              "selector = \"local:x\"\naction = \"inherit\"\n",
                 SL_ESCHEMA, 11, 10,
                 "unsupported value 'inherit' for 'action' in <inline:t> "
                 "scope.rules[0] value_patterns[0]");
}

Test(schema, bad_defaults) {
    expect_error(HDR "[scope]\ndefault_exec = \"run\"\n"
                     "default_value_action = \"allow\"\n",
                 SL_ESCHEMA, 5, 16,
                 "unsupported value 'run' for 'scope.default_exec' in "
                 "'<inline:t>'");
    expect_error(HDR "[scope]\ndefault_exec = \"trace\"\n"
                     "default_value_action = \"mask\"\n",
                 SL_ESCHEMA, 6, 24,
                 "unsupported value 'mask' for "
                 "'scope.default_value_action' in '<inline:t>'");
}

Test(schema, inherit_without_base) {
    expect_error(HDR "[scope]\ndefault_exec = \"inherit\"\n"
                     "default_value_action = \"allow\"\n",
                 SL_ESCHEMA, 5, 16,
                 "'scope.default_exec' in '<inline:t>' cannot inherit "
                 "without a previous filter");
    expect_error(HDR "[scope]\ndefault_exec = \"trace\"\n"
                     "default_value_action = \"inherit\"\n",
                 SL_ESCHEMA, 6, 24,
                 "'scope.default_value_action' in '<inline:t>' cannot "
                 "inherit without a previous filter");
}

Test(schema, meta_errors) {
    expect_error("[meta]\nname = \"  \"\nversion = 1\n" SCOPE_TA, SL_ESCHEMA, 2,
                 8, "'meta.name' must not be empty in '<inline:t>'");
    expect_error("[meta]\nname = \"n\"\nversion = 0\n" SCOPE_TA, SL_ESCHEMA, 3,
                 11, "'meta.version' must be >= 1 in '<inline:t>'");
    expect_error("[meta]\nname = \"n\"\nversion = 2\n" SCOPE_TA, SL_ESCHEMA, 3,
                 11,
                 "trace filter '<inline:t>' declares 'meta.version = 2' but "
                 "this recorder supports up to 1 (per spec § 11)");
    expect_error("[meta]\nname = \"n\"\nversion = \"1\"\n" SCOPE_TA, SL_ESCHEMA,
                 3, 11,
                 "failed to parse trace filter '<inline:t>': 'meta.version' "
                 "must be an integer, found string");
}

Test(schema, unknown_keys_everywhere) {
    expect_error("[meta]\nname = \"n\"\nversion = 1\nextra = true\n" SCOPE_TA,
                 SL_ESCHEMA, 4, 1,
                 "failed to parse trace filter '<inline:t>': unknown field "
                 "'extra' in 'meta'");
    expect_error(HDR SCOPE_TA "[[scope.rules]]\nselector = \"pkg:x\"\n"
                              "exec_mode = \"skip\"\n",
                 SL_ESCHEMA, 9, 1,
                 "failed to parse trace filter '<inline:t>': unknown field "
                 "'exec_mode' in 'scope.rules[0]'");
    expect_error(HDR SCOPE_TA "[other]\nx = 1\n", SL_ESCHEMA, 7, 2,
                 "failed to parse trace filter '<inline:t>': unknown field "
                 "'other' in the top level");
}

Test(schema, missing_required_fields) {
    env e;
    sl_error err = {0};
    cr_assert_eq(load(&e, false, SCOPE_TA, &err), SL_ESCHEMA);
    cr_assert_str_eq(err.msg, "failed to parse trace filter '<inline:t>': "
                              "missing field 'meta'");
    env_free(&e);
    cr_assert_eq(load(&e, false,
                      HDR SCOPE_TA "[[scope.rules]]\nexec = "
                                   "\"skip\"\n",
                      &err),
                 SL_ESCHEMA);
    cr_assert_str_eq(err.msg, "failed to parse trace filter '<inline:t>': "
                              "missing field 'selector'");
    env_free(&e);
}

Test(schema, io_validation) {
    expect_error(HDR SCOPE_TA "[io]\ncapture = true\nstreams = [\"bogus\"]\n",
                 SL_ESCHEMA, 9, 12,
                 "unsupported IO stream 'bogus' in '<inline:t>'");
    expect_error(HDR SCOPE_TA "[io]\ncapture = true\n", SL_ESCHEMA, 8, 11,
                 "'io.streams' must be provided when 'io.capture = true' in "
                 "'<inline:t>'");
    expect_error(HDR SCOPE_TA "[io]\nmodes = [\"x\"]\n", SL_ESCHEMA, 8, 9,
                 "'io.modes' is reserved and must be empty in '<inline:t>'");
}

Test(schema, selector_errors_name_rule_and_pattern) {
    expect_error(HDR SCOPE_TA "[[scope.rules]]\nselector = \"local:x\"\n",
                 SL_ESCHEMA, 8, 12,
                 "invalid scope selector in <inline:t> scope.rules[0]: "
                 "selector kind 'local' is not allowed in this context");
    expect_error(HDR SCOPE_TA "[[scope.rules]]\nselector = \"pkg:x\"\n"
                              "[[scope.rules]]\nselector = \"pkg:y\"\n"
                              "[[scope.rules.value_patterns]]\n"
                              "selector = \"pkg:z\"\naction = \"drop\"\n",
                 SL_ESCHEMA, 12, 12,
                 "invalid value selector in <inline:t> scope.rules[1] "
                 "value_patterns[0]: selector kind 'pkg' is not allowed in "
                 "this context");
}

Test(schema, bad_regex_and_glob_are_pattern_errors) {
    env e;
    sl_error err = {0};
    cr_assert_eq(load(&e, false,
                      HDR SCOPE_TA "[[scope.rules]]\nselector = 'pkg:x'\n"
                                   "[[scope.rules.value_patterns]]\n"
                                   "selector = 'local:regex:('\n"
                                   "action = \"drop\"\n",
                      &err),
                 SL_EPATTERN);
    cr_assert(strstr(err.msg, "invalid value selector in <inline:t> "
                              "scope.rules[0] value_patterns[0]: invalid "
                              "regex pattern '(': ") == err.msg,
              "%s", err.msg);
    cr_assert_eq(err.line, 10);
    cr_assert_eq(err.col, 12);
    env_free(&e);
    cr_assert_eq(load(&e, false,
                      HDR SCOPE_TA "[[scope.rules]]\nselector = 'pkg:[a'\n",
                      &err),
                 SL_EPATTERN);
    cr_assert(strstr(err.msg,
                     "invalid scope selector in <inline:t> "
                     "scope.rules[0]: invalid glob pattern '[a': ") == err.msg,
              "%s", err.msg);
    env_free(&e);
}

Test(schema, toml_syntax_error_is_located) {
    env e;
    sl_error err = {0};
    cr_assert_eq(load(&e, false, HDR "[scope\n", &err), SL_EPARSE);
    cr_assert(strstr(err.msg, "failed to parse trace filter '<inline:t>': ") ==
                  err.msg,
              "%s", err.msg);
    cr_assert_eq(err.line, 4);
    env_free(&e);
}

static void count_problem(const sl_error *e, void *ctx) {
    (void)e;
    (*(int *)ctx)++;
}

Test(schema, every_problem_is_reported_and_source_left_out) {
    sl_filter *f = sl_filter_new();
    int n = 0;
    sl_filter_set_reporter(f, count_problem, &n);
    const char *text = HDR SCOPE_TA "[[scope.rules]]\nselector = \"x:y\"\n"
                                    "exec = \"no\"\n[[scope.rules]]\n"
                                    "selector = \"pkg:z\"\nreason = 3\n";
    sl_error err = {0};
    cr_assert_eq(sl_filter_add_text(f, "t", text, strlen(text), &err),
                 SL_ESCHEMA);
    cr_assert_eq(n, 3);
    cr_assert_eq(sl_filter_source_count(f), 0);
    cr_assert_eq(sl_filter_ready(f, &err), SL_EINVAL);
    cr_assert_str_eq(err.msg, "no trace filter sources supplied");
    sl_filter_free(f);
}

Test(schema, deny_is_an_alias_of_redact_and_labels_dedupe) {
    env e;
    must_load(&e, false,
              "[meta]\nname = \"n\"\nversion = 1\nlabels = [\"a\", \"b\", "
              "\"a\"]\n" SCOPE_TA "[[scope.rules]]\nselector = 'pkg:*'\n"
              "value_default = \"deny\"\n");
    cr_assert_eq(e.f->sources[0].nlabels, 2);
    cr_assert_eq(sl_filter_scope_value_default(scope(&e, "/m.py", "", "m")),
                 SL_FILTER_REDACT);
    env_free(&e);
}

/* ---- module-name derivation (reference §1.4) ---- */

static void identity(env *e, const char *file, const char *qual,
                     const char *hint, const char *module, const char *rel,
                     const char *object) {
    bool hm = false, hr = false;
    cr_assert_eq(sl__filter_identity(e->ctx, file, qual, hint, &hm, &hr),
                 SL_OK);
    cr_assert_str_eq(hm ? e->ctx->module.ptr : "-", module, "%s", file);
    cr_assert_str_eq(hr ? e->ctx->rel.ptr : "-", rel, "%s", file);
    cr_assert_str_eq(e->ctx->object.len ? e->ctx->object.ptr : "-", object,
                     "%s", file);
}

Test(module_name, from_relative_path_hint_and_init) {
    env e;
    must_load(&e, true, NULL);
    identity(&e, "/usr/lib/python3.12/os.py", "join", NULL,
             "usr.lib.python3.12.os", "usr/lib/python3.12/os.py",
             "usr.lib.python3.12.os.join");
    identity(&e, "/p/app/__init__.py", "", NULL, "p.app", "p/app/__init__.py",
             "p.app");
    identity(&e, "/p/app.py", "main", "__main__", "__main__", "p/app.py",
             "__main__.main");
    identity(&e, "/p/app.py", "main", " <run_path> ", "p.app", "p/app.py",
             "p.app.main");
    identity(&e, "/p/./x/../app.py", "f", NULL, "p.app", "p/app.py", "p.app.f");
    identity(&e, "/v/lib/site-packages/x.py", "f", NULL, "x",
             "v/lib/site-packages/x.py", "x.f");
    env_free(&e);
}

Test(module_name, init_walk_when_path_name_is_invalid) {
    char dir[] = "/tmp/.tmpfilterXXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char p[512];
    snprintf(p, sizeof(p), "%s/app", dir);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/app/__init__.py", dir);
    FILE *fp = fopen(p, "w");
    cr_assert_not_null(fp);
    fclose(fp);
    env e;
    must_load(&e, false,
              HDR SCOPE_TA "[[scope.rules]]\nselector = "
                           "\"pkg:literal:app.foo\"\nexec = \"skip\"\n");
    snprintf(p, sizeof(p), "%s/app/foo.py", dir);
    const sl_filter_scope *s = scope(&e, p, "foo", NULL);
    cr_assert_eq(sl_filter_scope_exec(s), SL_FILTER_SKIP);
    identity(&e, p, "foo", NULL, "app.foo", p + 1, "app.foo.foo");
    env_free(&e);
    snprintf(p, sizeof(p), "%s/app/__init__.py", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/app", dir);
    rmdir(p);
    rmdir(dir);
}

Test(module_name, no_module_means_pkg_never_matches) {
    env e;
    must_load(&e, false,
              HDR SCOPE_TA "[[scope.rules]]\nselector = \"pkg:glob:*\"\n"
                           "exec = \"skip\"\n");
    cr_assert_eq(sl_filter_scope_exec(scope(&e, "/p/my-script.py", "f", NULL)),
                 SL_FILTER_TRACE);
    env_free(&e);
}

/* ---- resolution and the chain ---- */

Test(resolve, last_matching_rule_wins_field_by_field) {
    env e;
    must_load(&e, false,
              HDR "[scope]\ndefault_exec = \"skip\"\n"
                  "default_value_action = \"redact\"\n"
                  "[[scope.rules]]\nselector = \"pkg:app.*\"\n"
                  "exec = \"trace\"\nvalue_default = \"allow\"\n"
                  "[[scope.rules]]\nselector = \"obj:app.foo.bar\"\n"
                  "value_default = \"redact\"\n");
    const sl_filter_scope *s = scope(&e, "/x/y.py", "bar", "app.foo");
    cr_assert_eq(sl_filter_scope_exec(s), SL_FILTER_TRACE);
    cr_assert_eq(sl_filter_scope_value_default(s), SL_FILTER_REDACT);
    cr_assert_eq(s->rule, 1);
    s = scope(&e, "/x/y.py", "baz", "app.foo");
    cr_assert_eq(sl_filter_scope_value_default(s), SL_FILTER_ALLOW);
    s = scope(&e, "/x/y.py", "baz", "other");
    cr_assert_eq(sl_filter_scope_exec(s), SL_FILTER_SKIP);
    cr_assert_eq(s->rule, -1);
    env_free(&e);
}

Test(resolve, cached_scope_is_the_same_object) {
    env e;
    must_load(&e, true, NULL);
    const sl_filter_scope *a = scope(&e, "/p/a.py", "f", "a");
    cr_assert_eq(scope(&e, "/p/a.py", "f", "a"), a);
    cr_assert_neq(scope(&e, "/p/a.py", "f", NULL), a);
    cr_assert_neq(scope(&e, "/p/a.py", "g", "a"), a);
    env_free(&e);
}

Test(resolve, two_filters_never_share_answers) {
    env a, b;
    must_load(&a, false,
              HDR SCOPE_TA "[[scope.rules]]\nselector = 'pkg:m'\n"
                           "exec = \"skip\"\n");
    must_load(&b, false, HDR SCOPE_TA);
    cr_assert_neq(sl_filter_id(a.f), sl_filter_id(b.f));
    cr_assert_eq(sl_filter_scope_exec(scope(&a, "/m.py", "f", "m")),
                 SL_FILTER_SKIP);
    cr_assert_eq(sl_filter_scope_exec(scope(&b, "/m.py", "f", "m")),
                 SL_FILTER_TRACE);
    env_free(&a);
    env_free(&b);
}

Test(resolve, value_patterns_first_match_in_rule_order) {
    env e;
    must_load(&e, false,
              HDR "[scope]\ndefault_exec = \"skip\"\n"
                  "default_value_action = \"redact\"\n"
                  "[[scope.rules]]\nselector = \"pkg:app.foo\"\n"
                  "exec = \"trace\"\nvalue_default = \"allow\"\n"
                  "[[scope.rules.value_patterns]]\n"
                  "selector = \"local:literal:user\"\naction = \"allow\"\n"
                  "[[scope.rules.value_patterns]]\n"
                  "selector = \"arg:password\"\naction = \"redact\"\n"
                  "[[scope.rules.value_patterns]]\n"
                  "selector = \"local:temp\"\naction = \"drop\"\n"
                  "[[scope.rules.value_patterns]]\n"
                  "selector = \"local:t*\"\naction = \"redact\"\n");
    const sl_filter_scope *s = scope(&e, "/p/app/foo.py", "foo", "app.foo");
    cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, "user"), SL_FILTER_ALLOW);
    cr_assert_eq(decide(&e, s, SL_FILTER_ARG, "password"), SL_FILTER_REDACT);
    cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, "temp"), SL_FILTER_DROP);
    cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, "temp"), SL_FILTER_DROP);
    cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, "tx"), SL_FILTER_REDACT);
    cr_assert_eq(decide(&e, s, SL_FILTER_GLOBAL, "anything"), SL_FILTER_ALLOW);
    env_free(&e);
}

Test(resolve, deliberate_difference_patterns_of_every_matching_rule) {
    /* issue 4, item 5: a project rule that only changes exec keeps the
     * builtin secret redaction (upstream drops it) ... */
    env e;
    must_load(&e, true,
              HDR SCOPE_TA "[[scope.rules]]\nselector = \"pkg:app.*\"\n"
                           "exec = \"trace\"\n"
                           "[[scope.rules]]\nselector = \"pkg:app.open\"\n"
                           "[[scope.rules.value_patterns]]\n"
                           "selector = \"local:api_key\"\n"
                           "action = \"allow\"\n");
    const sl_filter_scope *s = scope(&e, "/p/app/x.py", "f", "app.x");
    cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, "password"), SL_FILTER_REDACT);
    cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, "api_key"), SL_FILTER_REDACT);
    /* ... and a project can still allow a name explicitly: its later rule
     * is tried first */
    s = scope(&e, "/p/app/open.py", "f", "app.open");
    cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, "api_key"), SL_FILTER_ALLOW);
    cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, "token"), SL_FILTER_REDACT);
    env_free(&e);
}

Test(resolve, drop_default_ignores_patterns_of_earlier_sources) {
    env e;
    must_load(&e, true,
              "[meta]\nname = \"drop-all\"\nversion = 1\n[scope]\n"
              "default_exec = \"trace\"\ndefault_value_action = \"drop\"\n");
    const sl_filter_scope *s =
        scope(&e, "/p/app/dropper.py", "dropper", "app.dropper");
    cr_assert_eq(sl_filter_scope_value_default(s), SL_FILTER_DROP);
    cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, "secret"), SL_FILTER_DROP);
    cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, "public"), SL_FILTER_DROP);
    cr_assert_eq(decide(&e, s, SL_FILTER_RET, "app.dropper.dropper"),
                 SL_FILTER_DROP);
    env_free(&e);
}

Test(resolve, drop_default_keeps_patterns_of_its_own_source) {
    env e;
    must_load(&e, true,
              HDR "[scope]\ndefault_exec = \"trace\"\n"
                  "default_value_action = \"drop\"\n"
                  "[[scope.rules]]\nselector = \"pkg:*\"\n"
                  "[[scope.rules.value_patterns]]\n"
                  "selector = \"local:keep_*\"\naction = \"allow\"\n");
    const sl_filter_scope *s = scope(&e, "/p/m.py", "f", "m");
    cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, "keep_token"), SL_FILTER_ALLOW);
    cr_assert_eq(decide(&e, s, SL_FILTER_LOCAL, "token"), SL_FILTER_DROP);
    env_free(&e);
}

Test(resolve, builtin_skips_stdlib_including_free_threaded_and_top_level) {
    env e;
    must_load(&e, true, NULL);
    const char *skip[] = {
        "/usr/lib/python3.12/os.py", "/usr/lib/python3.13t/os.py",
        "/lib/python3.11/json/__init__.py", "C:\\Python312\\Lib\\os.py",
        "/v/lib/python3.12/site-packages/_virtualenv.py"};
    for (size_t i = 0; i < SL_ARRAY_LEN(skip); i++) {
        cr_assert_eq(sl_filter_scope_exec(scope(&e, skip[i], "f", NULL)),
                     SL_FILTER_SKIP, "%s", skip[i]);
    }
    const char *trace[] = {
        "/v/lib/python3.12/site-packages/requests/api.py",
        "/usr/local/lib/python3.11/dist-packages/requests/api.py",
        "/usr/lib/python3/dist-packages/requests/api.py",
        "/home/u/proj/lib/app.py"};
    for (size_t i = 0; i < SL_ARRAY_LEN(trace); i++) {
        cr_assert_eq(sl_filter_scope_exec(scope(&e, trace[i], "f", NULL)),
                     SL_FILTER_TRACE, "%s", trace[i]);
    }
    cr_assert_eq(
        sl_filter_scope_exec(scope(&e, "/p/x.py", "f", "asyncio.events")),
        SL_FILTER_SKIP);
    cr_assert_eq(sl_filter_scope_exec(scope(&e, "/p/x.py", "f", "builtins")),
                 SL_FILTER_SKIP);
    env_free(&e);
}

Test(chain, framework_builtins_and_unknown_name) {
    sl_filter *f = sl_filter_new();
    sl_error err = {0};
    cr_assert_eq(sl_filter_add_builtin(f, "builtin-default", &err), SL_OK);
    cr_assert_eq(sl_filter_add_builtin(f, "builtin-pytest", &err), SL_OK, "%s",
                 err.msg);
    cr_assert_eq(sl_filter_add_builtin(f, "builtin-unittest", &err), SL_OK,
                 "%s", err.msg);
    cr_assert_eq(sl_filter_add_builtin(f, "builtin-nose", &err), SL_ENOTFOUND);
    cr_assert_eq(sl_filter_source_count(f), 3);
    sl_filter_source_info si;
    cr_assert_eq(sl_filter_source(f, 1, &si), SL_OK);
    cr_assert_str_eq(si.path, "<inline:builtin-pytest>");
    cr_assert_str_eq(si.name, "builtin-pytest");
    cr_assert_eq(si.version, 1);
    cr_assert_eq(strlen(si.sha256), 64);
    cr_assert_eq(sl_filter_ready(f, &err), SL_OK, "%s", err.msg);
    sl_filter_ctx *ctx = NULL;
    cr_assert_eq(sl_filter_ctx_new(f, &ctx, &err), SL_OK);
    const sl_filter_scope *s = NULL;
    cr_assert_eq(sl_filter_classify(ctx, "/v/site/_pytest/main.py", "f",
                                    "_pytest.main", &s, &err),
                 SL_OK);
    cr_assert_eq(sl_filter_scope_exec(s), SL_FILTER_SKIP);
    sl_filter_ctx_free(ctx);
    sl_filter_free(f);
}

Test(chain, sha256_is_of_the_exact_text) {
    const char *text = HDR SCOPE_TA;
    sl_filter *f = sl_filter_new();
    sl_error err = {0};
    cr_assert_eq(sl_filter_add_text(f, "x", text, strlen(text), &err), SL_OK);
    uint8_t d[32];
    char hex[65];
    sl__sha256(text, strlen(text), d);
    sl__hex(d, 32, hex);
    sl_filter_source_info si;
    sl_filter_source(f, 0, &si);
    cr_assert_str_eq(si.sha256, hex);
    cr_assert_str_eq(si.path, "<inline:x>");
    sl_filter_free(f);
}

Test(chain, inherit_uses_earlier_source_and_defaults_merge) {
    sl_filter *f = sl_filter_new();
    sl_error err = {0};
    const char *base = HDR "[scope]\ndefault_exec = \"skip\"\n"
                           "default_value_action = \"redact\"\n";
    const char *over = HDR "[scope]\ndefault_exec = \"inherit\"\n"
                           "default_value_action = \"allow\"\n";
    cr_assert_eq(sl_filter_add_text(f, "a", base, strlen(base), &err), SL_OK);
    cr_assert_eq(sl_filter_add_text(f, "b", over, strlen(over), &err), SL_OK,
                 "%s", err.msg);
    cr_assert_eq(f->default_exec, SL_FILTER_SKIP);
    cr_assert_eq(f->default_value, SL_FILTER_ALLOW);
    cr_assert_eq(f->default_value_source, 1);
    bool cap = true;
    const char *const *st = NULL;
    size_t ns = 9;
    sl_filter_io(f, &cap, &st, &ns);
    cr_assert(!cap);
    cr_assert_eq(ns, 0);
    const char *io = HDR "[scope]\ndefault_exec = \"inherit\"\n"
                         "default_value_action = \"inherit\"\n[io]\n"
                         "capture = true\nstreams = [\"stdout\", "
                         "\"stderr\", \"stdout\"]\n";
    cr_assert_eq(sl_filter_add_text(f, "c", io, strlen(io), &err), SL_OK, "%s",
                 err.msg);
    sl_filter_io(f, &cap, &st, &ns);
    cr_assert(cap);
    cr_assert_eq(ns, 2);
    cr_assert_str_eq(st[1], "stderr");
    cr_assert_eq(f->default_value, SL_FILTER_ALLOW);
    sl_filter_free(f);
}

static char *write_tmp(const char *dir, const char *rel, const char *text) {
    static char p[1024];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    for (char *s = p + strlen(dir) + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0700);
            *s = '/';
        }
    }
    FILE *fp = fopen(p, "w");
    cr_assert_not_null(fp, "%s", p);
    fputs(text, fp);
    fclose(fp);
    return p;
}

Test(chain, discovery_paths_env_and_project_root) {
    char dir[] = "/tmp/sl_filter_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char rdir[1024];
    cr_assert_not_null(realpath(dir, rdir));
    write_tmp(rdir, ".codetracer/trace-filter.toml",
              "[meta]\nname = \"proj\"\nversion = 1\n" SCOPE_TA
              "[[scope.rules]]\nselector = \"file:"
              "/PLACEHOLDER\"\n");
    /* rewrite with an absolute file: selector inside the root */
    char sel[2048];
    snprintf(sel, sizeof(sel),
             "[meta]\nname = \"proj\"\nversion = 1\n" SCOPE_TA
             "[[scope.rules]]\nselector = \"file:literal:%s/.codetracer/../"
             "app/__init__.py\"\nexec = \"skip\"\n",
             rdir);
    write_tmp(rdir, ".codetracer/trace-filter.toml", sel);
    write_tmp(rdir, "app/sub/main.py", "");
    write_tmp(rdir, "o1.toml", "[meta]\nname = \"o1\"\nversion = 1\n" SCOPE_TA);
    write_tmp(rdir, "o2.toml", "[meta]\nname = \"o2\"\nversion = 1\n" SCOPE_TA);
    sl_filter *f = sl_filter_new();
    sl_error err = {0};
    bool found = false;
    char prog[1100];
    snprintf(prog, sizeof(prog), "%s/app/sub/main.py", rdir);
    cr_assert_eq(sl_filter_discover(f, prog, &found, &err), SL_OK, "%s",
                 err.msg);
    cr_assert(found);
    char spec[2400];
    snprintf(spec, sizeof(spec), " %s/o1.toml :: ::%s/o2.toml", rdir, rdir);
    cr_assert_eq(sl_filter_add_paths(f, spec, &err), SL_OK, "%s", err.msg);
    setenv("CODETRACER_TRACE_FILTER", spec, 1);
    cr_assert_eq(sl_filter_add_env(f, &err), SL_OK, "%s", err.msg);
    unsetenv("CODETRACER_TRACE_FILTER");
    cr_assert_eq(sl_filter_source_count(f), 5);
    cr_assert_str_eq(f->sources[0].root, rdir);
    cr_assert_str_eq(f->rules[0].sel.raw, "file:literal:app/__init__.py");
    char want[1100];
    snprintf(want, sizeof(want), "%s/o2.toml", rdir);
    cr_assert_str_eq(f->sources[2].path, want);
    cr_assert_str_eq(f->sources[2].root, rdir);
    cr_assert_eq(sl_filter_add_paths(f, ":: ", &err), SL_EINVAL);
    cr_assert_str_eq(err.msg, "trace_filter must resolve to at least one path");
    snprintf(spec, sizeof(spec), "%s/absent.toml", rdir);
    cr_assert_eq(sl_filter_add_paths(f, spec, &err), SL_ENOTFOUND);
    char msg[2600];
    snprintf(msg, sizeof(msg), "trace filter '%s' does not exist", spec);
    cr_assert_str_eq(err.msg, msg);
    cr_assert_eq(sl_filter_add_paths(f, rdir, &err), SL_EIO);
    /* file: selectors see the project-relative path */
    cr_assert_eq(sl_filter_ready(f, &err), SL_OK, "%s", err.msg);
    sl_filter_ctx *ctx = NULL;
    cr_assert_eq(sl_filter_ctx_new(f, &ctx, &err), SL_OK);
    const sl_filter_scope *s = NULL;
    snprintf(prog, sizeof(prog), "%s/app/__init__.py", rdir);
    cr_assert_eq(sl_filter_classify(ctx, prog, "", NULL, &s, &err), SL_OK);
    cr_assert_eq(sl_filter_scope_exec(s), SL_FILTER_SKIP);
    sl_filter_ctx_free(ctx);
    sl_filter_free(f);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rdir);
    cr_assert_eq(system(cmd), 0);
}

Test(chain, file_selector_outside_root_and_escape) {
    char dir[] = "/tmp/sl_filter_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char rdir[1024];
    cr_assert_not_null(realpath(dir, rdir));
    char *p = write_tmp(rdir, ".codetracer/f.toml",
                        HDR SCOPE_TA "[[scope.rules]]\n"
                                     "selector = \"file:/elsewhere/x.py\"\n");
    char path[1100];
    snprintf(path, sizeof(path), "%s", p);
    sl_filter *f = sl_filter_new();
    sl_error err = {0};
    cr_assert_eq(sl_filter_add_paths(f, path, &err), SL_ESCHEMA);
    char msg[4096];
    snprintf(msg, sizeof(msg),
             "file selector '/elsewhere/x.py' in %s scope.rules[0] must "
             "reside within project root '%s'",
             path, rdir);
    cr_assert_str_eq(err.msg, msg);
    cr_assert_eq(err.line, 8);
    cr_assert_eq(err.col, 12);
    write_tmp(rdir, ".codetracer/f.toml",
              HDR SCOPE_TA "[[scope.rules]]\nselector = \"file:a/../../x\"\n");
    cr_assert_eq(sl_filter_add_paths(f, path, &err), SL_ESCHEMA);
    snprintf(msg, sizeof(msg),
             "file selector 'a/../../x' in %s scope.rules[0] escapes the "
             "project root",
             path);
    cr_assert_str_eq(err.msg, msg);
    sl_filter_free(f);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rdir);
    cr_assert_eq(system(cmd), 0);
}

/* ---- counters, plans, metadata, explain ---- */

Test(stats, counters_per_kind_and_metadata_json) {
    env e;
    must_load(&e, false,
              "[meta]\nname = \"redact\"\nversion = 1\n" SCOPE_TA
              "[[scope.rules]]\nselector = \"pkg:app.sec\"\n"
              "[[scope.rules.value_patterns]]\nselector = \"local:secret\"\n"
              "action = \"redact\"\n[[scope.rules.value_patterns]]\n"
              "selector = \"local:internal\"\naction = \"drop\"\n"
              "[[scope.rules]]\nselector = \"pkg:skipme\"\nexec = \"skip\"\n");
    const sl_filter_scope *s = scope(&e, "/p/app/sec.py", "f", "app.sec");
    decide(&e, s, SL_FILTER_LOCAL, "secret");
    decide(&e, s, SL_FILTER_LOCAL, "secret");
    decide(&e, s, SL_FILTER_LOCAL, "internal");
    decide(&e, s, SL_FILTER_LOCAL, "public");
    sl_filter_count(e.ctx, SL_FILTER_RET, SL_FILTER_REDACT);
    scope(&e, "/p/skipme.py", "f", "skipme");
    scope(&e, "/p/skipme.py", "f", "skipme");
    sl_filter_stats st;
    sl_filter_get_stats(e.f, &st);
    cr_assert_eq(st.scopes_skipped, 1);
    cr_assert_eq(st.value_redactions[SL_FILTER_LOCAL], 2);
    cr_assert_eq(st.value_redactions[SL_FILTER_RET], 1);
    cr_assert_eq(st.value_drops[SL_FILTER_LOCAL], 1);
    sl_buf b = {0};
    sl_error err = {0};
    cr_assert_eq(sl_filter_write_metadata(e.f, &b, &err), SL_OK);
    uint8_t d[32];
    char hex[65];
    const sl__fsource *src = &e.f->sources[0];
    (void)d;
    snprintf(hex, sizeof(hex), "%s", src->sha256);
    char want[1024];
    snprintf(want, sizeof(want),
             "{\"filters\":[{\"name\":\"redact\",\"path\":\"<inline:t>\","
             "\"sha256\":\"%s\",\"version\":1}],\"stats\":{"
             "\"scopes_skipped\":1,\"value_drops\":{\"argument\":0,"
             "\"attribute\":0,\"global\":0,\"local\":1,\"return\":0},"
             "\"value_redactions\":{\"argument\":0,\"attribute\":0,"
             "\"global\":0,\"local\":2,\"return\":1}}}",
             hex);
    cr_assert_str_eq(b.ptr, want);
    sl_buf_free(&b);
    /* a freed context's counts stay in the totals */
    sl_filter_ctx_free(e.ctx);
    e.ctx = NULL;
    sl_filter_get_stats(e.f, &st);
    cr_assert_eq(st.value_redactions[SL_FILTER_LOCAL], 2);
    env_free(&e);
}

Test(plan, vector_matches_single_decisions_and_counts_nothing) {
    env e;
    must_load(&e, true, NULL);
    const sl_filter_scope *s = scope(&e, "/p/m.py", "f", "m");
    sl_str names[] = {{"user", 4}, {"token", 5}, {"x", 1}};
    uint8_t acts[3];
    sl_error err = {0};
    cr_assert_eq(
        sl_filter_plan(e.ctx, s, SL_FILTER_LOCAL, names, 3, acts, &err), SL_OK);
    cr_assert_eq(acts[0], SL_FILTER_ALLOW);
    cr_assert_eq(acts[1], SL_FILTER_REDACT);
    cr_assert_eq(acts[2], SL_FILTER_ALLOW);
    sl_filter_stats st;
    sl_filter_get_stats(e.f, &st);
    cr_assert_eq(st.value_redactions[SL_FILTER_LOCAL], 0);
    env_free(&e);
}

Test(explain, object_names_deciding_rules) {
    env e;
    must_load(&e, true,
              HDR SCOPE_TA "[[scope.rules]]\nselector = \"pkg:app.*\"\n"
                           "reason = \"mine\"\n"
                           "[[scope.rules.value_patterns]]\n"
                           "selector = \"local:literal:user\"\n"
                           "action = \"drop\"\n");
    sl_filter_kind kinds[] = {SL_FILTER_LOCAL, SL_FILTER_LOCAL, SL_FILTER_ARG};
    sl_str names[] = {{"user", 4}, {"token", 5}, {"n", 1}};
    sl_buf b = {0};
    sl_error err = {0};
    cr_assert_eq(sl_filter_explain(e.ctx, "/p/app/x.py", "f", "app.x", kinds,
                                   names, 3, &b, &err),
                 SL_OK, "%s", err.msg);
    const char *want =
        "{\"module\":\"app.x\",\"relative_path\":\"p/app/x.py\","
        "\"object\":\"app.x.f\",\"exec\":\"trace\",\"value_default\":"
        "\"allow\",\"rule\":{\"source\":\"<inline:t>\",\"index\":0,"
        "\"selector\":\"pkg:glob:app.*\",\"reason\":\"mine\"},\"values\":["
        "{\"kind\":\"local\",\"name\":\"user\",\"action\":\"drop\",\"rule\":"
        "{\"source\":\"<inline:t>\",\"index\":0,\"pattern\":0,\"selector\":"
        "\"local:literal:user\",\"reason\":null}},"
        "{\"kind\":\"local\",\"name\":\"token\",\"action\":\"redact\","
        "\"rule\":{\"source\":\"<inline:builtin-default>\",\"index\":6,"
        "\"pattern\":0,";
    cr_assert(strncmp(b.ptr, want, strlen(want)) == 0, "%s", b.ptr);
    cr_assert(strstr(b.ptr, "{\"kind\":\"arg\",\"name\":\"n\",\"action\":"
                            "\"allow\",\"rule\":null}]}"),
              "%s", b.ptr);
    sl_buf_free(&b);
    env_free(&e);
}

Test(api, state_and_argument_errors) {
    sl_filter *f = sl_filter_new();
    sl_error err = {0};
    sl_filter_ctx *ctx = NULL;
    cr_assert_eq(sl_filter_ctx_new(f, &ctx, &err), SL_ESTATE);
    cr_assert_eq(sl_filter_add_builtin(f, "builtin-default", &err), SL_OK);
    cr_assert_eq(sl_filter_ready(f, &err), SL_OK);
    cr_assert_eq(sl_filter_ready(f, &err), SL_ESTATE);
    cr_assert_eq(sl_filter_add_builtin(f, "builtin-default", &err), SL_ESTATE);
    cr_assert_eq(sl_filter_ctx_new(f, &ctx, &err), SL_OK);
    const sl_filter_scope *s = NULL;
    cr_assert_eq(sl_filter_classify(ctx, NULL, NULL, NULL, &s, &err),
                 SL_EINVAL);
    char *big = malloc(SL__FILTER_MAX_NAME + 2);
    memset(big, 'a', SL__FILTER_MAX_NAME + 1);
    big[SL__FILTER_MAX_NAME + 1] = '\0';
    cr_assert_eq(sl_filter_classify(ctx, big, NULL, NULL, &s, &err), SL_ELIMIT);
    free(big);
    sl_filter_kind k;
    cr_assert_eq(sl_filter_kind_parse("ret", 3, &k), SL_OK);
    cr_assert_eq(k, SL_FILTER_RET);
    cr_assert_eq(sl_filter_kind_parse("pkg", 3, &k), SL_EINVAL);
    cr_assert_str_eq(sl_filter_kind_name(SL_FILTER_ATTR), "attr");
    sl_filter_ctx_free(ctx);
    sl_filter_free(f);
    sl_filter_free(NULL);
    sl_filter_ctx_free(NULL);
}

/* ---- allocation failure ---- */

static long fail_at = -1, allocs = 0;

static void *t_alloc(void *c, size_t n) {
    (void)c;
    if (fail_at >= 0 && allocs++ == fail_at) {
        return NULL;
    }
    return malloc(n);
}

static void *t_realloc(void *c, void *p, size_t o, size_t n) {
    (void)c;
    (void)o;
    if (fail_at >= 0 && allocs++ == fail_at) {
        return NULL;
    }
    return realloc(p, n);
}

static void t_free(void *c, void *p, size_t n) {
    (void)c;
    (void)n;
    free(p);
}

Test(oom, loading_and_resolving_fail_cleanly) {
    sl_allocator a = {t_alloc, t_realloc, t_free, NULL};
    sl_set_allocator(&a);
    bool done = false;
    for (long n = 0; !done && n < 100000; n++) {
        fail_at = n;
        allocs = 0;
        sl_error err = {0};
        sl_filter *f = sl_filter_new();
        sl_filter_ctx *ctx = NULL;
        sl_status rc = f ? SL_OK : SL_ENOMEM;
        /* a small chain: each attempt compiles its pattern sets again */
        static const char text[] =
            HDR SCOPE_TA "[[scope.rules]]\nselector = \"pkg:a*\"\n"
                         "exec = \"trace\"\nreason = \"r\"\n"
                         "[[scope.rules.value_patterns]]\n"
                         "selector = \"local:regex:tok\"\n"
                         "action = \"redact\"\n[io]\ncapture = true\n"
                         "streams = [\"stdout\"]\n";
        if (rc == SL_OK) {
            rc = sl_filter_add_text(f, "t", text, sizeof(text) - 1, &err);
        }
        if (rc == SL_OK) {
            rc = sl_filter_ready(f, &err);
        }
        if (rc == SL_OK) {
            rc = sl_filter_ctx_new(f, &ctx, &err);
        }
        const sl_filter_scope *s = NULL;
        if (rc == SL_OK) {
            rc = sl_filter_classify(ctx, "/p/a.py", "f", "a", &s, &err);
        }
        if (rc == SL_OK) {
            sl_filter_decide(ctx, s, SL_FILTER_LOCAL, "token", 5);
            done = true;
        } else {
            cr_assert(rc == SL_ENOMEM || rc == SL_ELIMIT, "n=%ld rc=%d %s", n,
                      rc, err.msg);
        }
        sl_filter_ctx_free(ctx);
        sl_filter_free(f);
    }
    fail_at = -1;
    sl_set_allocator(NULL);
    cr_assert(done);
}

/* Built-ins skip the one-by-one pattern check when loaded (sealing
 * compiles them); loaded as ordinary text they must pass it too. */
Test(chain, builtin_texts_pass_the_full_check) {
    const char *names[] = {"builtin-default", "builtin-pytest",
                           "builtin-unittest"};
    for (size_t i = 0; i < SL_ARRAY_LEN(names); i++) {
        size_t len = 0;
        const char *text = sl__filter_builtin_text(names[i], &len);
        cr_assert_not_null(text);
        sl_filter *f = sl_filter_new();
        sl_error err = {0};
        cr_assert_eq(sl_filter_add_text(f, names[i], text, len, &err), SL_OK,
                     "%s: %s", names[i], err.msg);
        cr_assert_eq(sl_filter_ready(f, &err), SL_OK, "%s", err.msg);
        sl_filter_free(f);
    }
}

/* After sl_filter_ready: threads classify and decide at once, one context
 * each; every thread sees the same scope objects and the totals add up. */
typedef struct worker {
    sl_filter *f;
    const sl_filter_scope *seen[8];
    int bad;
} worker;

static void *work(void *p) {
    worker *w = p;
    sl_filter_ctx *ctx = NULL;
    sl_error err = {0};
    if (sl_filter_ctx_new(w->f, &ctx, &err) != SL_OK) {
        w->bad++;
        return NULL;
    }
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 8; i++) {
            char file[64];
            snprintf(file, sizeof(file), "/p/app/m%d.py", i);
            const sl_filter_scope *s = NULL;
            if (sl_filter_classify(ctx, file, "f", NULL, &s, &err) != SL_OK) {
                w->bad++;
                continue;
            }
            w->seen[i] = s;
            if (sl_filter_decide(ctx, s, SL_FILTER_LOCAL, "token", 5) !=
                SL_FILTER_REDACT) {
                w->bad++;
            }
        }
    }
    sl_filter_ctx_free(ctx);
    return NULL;
}

Test(threads, concurrent_classify_and_decide) {
    sl_filter *f = sl_filter_new();
    sl_error err = {0};
    cr_assert_eq(sl_filter_add_builtin(f, "builtin-default", &err), SL_OK);
    cr_assert_eq(sl_filter_ready(f, &err), SL_OK);
    enum {
        N = 4
    };
    worker w[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].f = f;
        cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(w[i].bad, 0);
        for (int j = 0; j < 8; j++) {
            cr_assert_eq(w[i].seen[j], w[0].seen[j]);
        }
    }
    sl_filter_stats st;
    sl_filter_get_stats(f, &st);
    cr_assert_eq(st.value_redactions[SL_FILTER_LOCAL], N * 200 * 8);
    sl_filter_free(f);
}
