/* tests/match/test_selector.c: the selector dialect's match-type prefixes
 * and the selector behaviours of the trace-filter reference, checked
 * through sl_pat_parse + a compiled set. */
#include "helpers.h"

#include "base/base.h"

static sl_pat parse_ok(const char *text, sl_pat_kind def) {
    sl_pat p = {.flags = 0, .id = 1};
    sl_error err = {0};
    cr_assert_eq(sl_pat_parse(text, strlen(text), def, &p, &err), SL_OK,
                 "%s: %s", text, err.msg);
    return p;
}

Test(selector, prefixes_select_the_kind) {
    sl_pat p = parse_ok("glob:a:b", SL_PAT_REGEX);
    cr_assert_eq(p.kind, SL_PAT_GLOB);
    cr_assert_eq(p.len, 3);
    cr_assert_eq(strncmp(p.text, "a:b", 3), 0);
    p = parse_ok("regex:^a::b$", SL_PAT_GLOB);
    cr_assert_eq(p.kind, SL_PAT_REGEX);
    cr_assert_eq(p.len, 6);
    p = parse_ok("literal:debug_payload", SL_PAT_GLOB);
    cr_assert_eq(p.kind, SL_PAT_EXACT);
    cr_assert_eq(p.len, strlen("debug_payload"));
    p = parse_ok("user_*", SL_PAT_GLOB);
    cr_assert_eq(p.kind, SL_PAT_GLOB);
    cr_assert_eq(p.len, 6);
    p = parse_ok("token", SL_PAT_CONTAINS);
    cr_assert_eq(p.kind, SL_PAT_CONTAINS);
}

Test(selector, parse_keeps_flags_id_and_where) {
    sl_pat p = {.flags = SL_PAT_CASELESS, .id = 42, .where = {"f", 3, 4}};
    cr_assert_eq(sl_pat_parse("regex:x", 7, SL_PAT_GLOB, &p, NULL), SL_OK);
    cr_assert_eq(p.flags, SL_PAT_CASELESS);
    cr_assert_eq(p.id, 42);
    cr_assert_eq(p.where.line, 3);
}

static void parse_err(const char *text, const char *msg) {
    sl_pat p = {.where = {"f.toml", 7, 12}};
    sl_error err = {0};
    cr_assert_eq(sl_pat_parse(text, strlen(text), SL_PAT_GLOB, &p, &err),
                 SL_EPATTERN, "%s", text);
    cr_assert_str_eq(err.msg, msg);
    cr_assert_eq(err.line, 7);
    cr_assert_eq(err.col, 12);
}

Test(selector, errors_name_the_problem_at_the_selector) {
    parse_err("", "selector pattern cannot be empty");
    parse_err("glob:", "selector pattern cannot be empty");
    parse_err(":foo", "selector match type cannot be empty");
    parse_err("my_app:foo", "unsupported selector match type 'my_app'");
    parse_err("invalid:foo", "unsupported selector match type 'invalid'");
    sl_pat p = {0};
    cr_assert_eq(sl_pat_parse(NULL, 1, SL_PAT_GLOB, &p, NULL), SL_EINVAL);
    cr_assert_eq(sl_pat_parse("x", 1, SL_PAT_GLOB, NULL, NULL), SL_EINVAL);
}

/* Selector behaviours from the trace-filter reference (restated, not
 * copied): the pattern after the kind, its matches and non-matches. */
typedef struct sel_case {
    const char *sel;
    const char *yes[10];
    const char *no[4];
} sel_case;

static const sel_case sel_cases[] = {
    {"my_app.core.*", {"my_app.core.services"}, {"other.module"}},
    {"literal:src/services/api.py",
     {"src/services/api.py"},
     {"src/services/API.py"}},
    {"regex:^my_app::service::[A-Z]\\w+$",
     {"my_app::service::Handler"},
     {"my_app.service.Handler"}},
    {"user_*", {"user_id"}, {"order_id"}},
    {"glob:*", {"x", "a.b.c", "__main__"}, {"a/b"}},
    {"glob:**/test_*.py",
     {"test_a.py", "tests/unit/test_a.py"},
     {"tests/unit/helper.py"}},
    {"glob:bench_pkg/jobs/worker/module_*.py",
     {"bench_pkg/jobs/worker/module_3.py"},
     {"bench_pkg/jobs/worker/sub/module_3.py"}},
    {"regex:token", {"token", "my_token_2"}, {"toke"}},
    {"regex:(?i).*(pass(word)?|passwd|pwd|secret|token|session|cookie|auth|"
     "credential|creds|bearer|ssn|credit|card|iban|cvv|cvc|pan|api[_-]?key|"
     "private[_-]?key|secret[_-]?key|ssh[_-]?key|jwt|refresh[_-]?token|"
     "access[_-]?token).*",
     {"password", "API_KEY", "session_id", "company", "author", "discard",
      "classname", "expand", "span"},
     {"user", "total", "x"}},
    {"literal:debug_payload",
     {"debug_payload"},
     {"Debug_payload", "debug_payload2"}},
    {"my_app.*", {"my_app.a.b.c"}, {"my_app"}},
};

Test(selector, reference_selector_behaviours) {
    for (size_t i = 0; i < SL_ARRAY_LEN(sel_cases); i++) {
        const sel_case *c = &sel_cases[i];
        sl_pat p = parse_ok(c->sel, SL_PAT_GLOB);
        /* how the trace filters compile selectors */
        p.flags = SL_PAT_GLOB_PATH | SL_PAT_ALLOWEMPTY;
        char text[512];
        snprintf(text, sizeof(text), "%.*s", (int)p.len, p.text);
        for (size_t j = 0; j < 10 && c->yes[j]; j++) {
            cr_expect(matches1(p.kind, p.flags, text, c->yes[j]),
                      "%s should match %s", c->sel, c->yes[j]);
        }
        for (size_t j = 0; j < 4 && c->no[j]; j++) {
            cr_expect(!matches1(p.kind, p.flags, text, c->no[j]),
                      "%s should not match %s", c->sel, c->no[j]);
        }
    }
}

Test(selector, invalid_regex_and_glob_selectors) {
    sl_pat p = parse_ok("regex:(", SL_PAT_GLOB);
    sl_error err = {0};
    cr_assert_eq(sl_pat_check(&p, &err), SL_EPATTERN);
    cr_assert_eq(strncmp(err.msg, "invalid regex \"(\": ", 19), 0, "%s",
                 err.msg);
    p = parse_ok("glob:[a", SL_PAT_REGEX);
    p.flags = SL_PAT_GLOB_PATH;
    cr_assert_eq(sl_pat_check(&p, &err), SL_EPATTERN);
    cr_assert_str_eq(err.msg, "invalid glob \"[a\": unclosed character "
                              "class; missing ']'");
}
