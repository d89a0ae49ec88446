/* tests/match/test_regex.c: regex replace with Rust regex-crate template
 * semantics, search, errors, UTF-8 stepping over empty matches, threads
 * and allocation failures. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/match.h>

#include "base/base.h"

typedef struct rcase {
    const char *re;
    unsigned flags;
    const char *s;
    const char *tmpl;
    const char *want;
    size_t count;
} rcase;

static const rcase cases[] = {
    /* templates */
    {"(\\d+)", 0, "a12b345", "<$1>", "a<12>b<345>", 2},
    {"(\\d+)", 0, "a12", "$1a", "a", 1}, /* group "1a": none */
    {"(\\d+)", 0, "a12", "${1}a", "a12a", 1},
    {"(\\d+)", 0, "a12", "$$1", "a$1", 1},
    {"(\\d+)", 0, "a12", "$$$1", "a$12", 1},
    {"(\\d+)", 0, "a12", "$0-$0", "a12-12", 1},
    {"(\\d+)", 0, "a12", "$2", "a", 1}, /* missing group */
    {"(\\d+)", 0, "a12", "${2}x", "ax", 1},
    {"(\\d+)", 0, "a12", "$", "a$", 1}, /* lone '$' */
    {"(\\d+)", 0, "a12", "x$-y", "ax$-y", 1},
    {"(\\d+)", 0, "a12", "${1", "a${1", 1}, /* unclosed brace */
    {"(\\d+)", 0, "a12", "${}", "a", 1},
    {"(\\d+)", 0, "a12", "${+1}", "a12", 1},
    {"(\\d+)", 0, "a12", "$01", "a12", 1},
    {"(?P<user>\\w+)@(?P<dom>\\w+)", 0, "x bob@ex y", "$dom:$user",
     "x ex:bob y", 1},
    {"(?P<user>\\w+)@(?P<dom>\\w+)", 0, "bob@ex", "${dom}_$user_", "ex_",
     1}, /* $user_ is a name */
    {"(?<n>a)|(?<m>b)", 0, "ab", "[$n|$m]", "[a|][|b]", 2},
    {"(a)|(b)", 0, "ab", "[$1$2]", "[a][b]", 2}, /* non-participating */
    {"(?i)secret", 0, "SeCrEt x secret", "***", "*** x ***", 2},
    {"secret", SL_PAT_CASELESS, "SECRET", "*", "*", 1},
    {"secret", 0, "SECRET", "*", "SECRET", 0},
    {"x", 0, "", "y", "", 0},
    {"^$", 0, "", "E", "E", 1},
    /* empty matches step one character, as Rust's iterator */
    {"a*", 0, "baaac", "-", "-b-c-", 3},
    {"", 0, "abc", "-", "-a-b-c-", 4},
    {"", 0, "\xc3\xa9t\xc3\xa9", "|", "|\xc3\xa9|t|\xc3\xa9|", 4},
    {"x*", 0, "\xff\xfe", ".", ".\xff.\xfe.", 3}, /* invalid UTF-8 input */
    /* $ is the end of the text, not before a final newline */
    {"a$", 0, "a\n", "X", "a\n", 0},
    {"a$", 0, "ba", "X", "bX", 1},
    /* \d and \w are Unicode-aware */
    {"\\d", 0, "\xd9\xa3", "D", "D", 1},
    {"\\w+", 0, "caf\xc3\xa9!", "W", "W!", 1},
    /* redaction-like */
    {"AKIA[0-9A-Z]{16}", 0, "key=AKIAABCDEFGHIJKLMNOP;", "[REDACTED]",
     "key=[REDACTED];", 1},
    {"Bearer\\s+\\S+", 0, "Authorization: Bearer abc.def", "Bearer ***",
     "Authorization: Bearer ***", 1},
};

Test(replace, template_and_iteration_table) {
    for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
        const rcase *c = &cases[i];
        sl_regex *re = NULL;
        sl_error err = {0};
        cr_assert_eq(
            sl_regex_compile(c->re, strlen(c->re), c->flags, &re, &err), SL_OK,
            "%s: %s", c->re, err.msg);
        sl_buf out = {0};
        size_t n = 99;
        cr_assert_eq(sl_regex_replace(re, c->s, strlen(c->s), c->tmpl,
                                      strlen(c->tmpl), &out, &n, &err),
                     SL_OK, "case %zu: %s", i, err.msg);
        const char *got = out.ptr ? out.ptr : "";
        cr_expect_str_eq(got, c->want, "case %zu: %s on %s with %s", i, c->re,
                         c->s, c->tmpl);
        cr_expect_eq(n, c->count, "case %zu count %zu", i, n);
        sl_buf_free(&out);
        sl_regex_free(re);
    }
}

Test(replace, appends_and_reuses_the_buffer) {
    sl_regex *re = NULL;
    cr_assert_eq(sl_regex_compile("o", 1, 0, &re, NULL), SL_OK);
    sl_buf out = {0};
    sl_buf_append(&out, ">", 1);
    cr_assert_eq(sl_regex_replace(re, "foo", 3, "0", 1, &out, NULL, NULL),
                 SL_OK);
    cr_assert_str_eq(out.ptr, ">f00");
    out.len = 0;
    cr_assert_eq(sl_regex_replace(re, "boo", 3, "", 0, &out, NULL, NULL),
                 SL_OK);
    cr_assert_str_eq(out.ptr, "b");
    sl_buf_free(&out);
    sl_regex_free(re);
}

Test(search, finds_anywhere) {
    sl_regex *re = NULL;
    cr_assert_eq(sl_regex_compile("t[o0]ken", 8, 0, &re, NULL), SL_OK);
    cr_assert(sl_regex_search(re, "my_t0ken_2", 10));
    cr_assert(!sl_regex_search(re, "tkn", 3));
    cr_assert(!sl_regex_search(NULL, "x", 1));
    sl_regex_free(re);
    sl_regex_free(NULL);
}

Test(errors, bad_regex_message) {
    sl_regex *re = NULL;
    sl_error err = {0};
    cr_assert_eq(sl_regex_compile("([bad", 5, 0, &re, &err), SL_EPATTERN);
    cr_assert_null(re);
    cr_assert_eq(strncmp(err.msg, "invalid regex \"([bad\": ", 23), 0, "%s",
                 err.msg);
    cr_assert(strstr(err.msg, "at offset 5"), "%s", err.msg);
    cr_assert_eq(sl_regex_compile(NULL, 3, 0, &re, &err), SL_EINVAL);
    cr_assert_eq(sl_regex_compile("a", 1, 0, NULL, &err), SL_EINVAL);
    sl_buf out = {0};
    cr_assert_eq(sl_regex_replace(NULL, "a", 1, "", 0, &out, NULL, &err),
                 SL_EINVAL);
}

Test(replace, catastrophic_backtracking_is_a_limit) {
    sl_regex *re = NULL;
    cr_assert_eq(sl_regex_compile("(a+)+$", 6, 0, &re, NULL), SL_OK);
    char s[64];
    memset(s, 'a', 40);
    s[40] = 'b';
    sl_buf out = {0};
    sl_buf_append(&out, "keep", 4);
    sl_error err = {0};
    cr_assert_eq(sl_regex_replace(re, s, 41, "x", 1, &out, NULL, &err),
                 SL_ELIMIT);
    cr_assert_str_eq(out.ptr, "keep", "out is as it was");
    cr_assert(!sl_regex_search(re, s, 41));
    sl_buf_free(&out);
    sl_regex_free(re);
}

typedef struct thread_arg {
    const sl_regex *re;
    int ok;
} thread_arg;

static void *worker(void *p) {
    thread_arg *a = p;
    sl_buf out = {0};
    a->ok = 1;
    for (int i = 0; i < 2000; i++) {
        out.len = 0;
        size_t n = 0;
        if (sl_regex_replace(a->re, "id=42 id=7", 10, "<$1>", 4, &out, &n,
                             NULL) != SL_OK ||
            strcmp(out.ptr, "id=<42> id=<7>") != 0 || n != 2) {
            a->ok = 0;
        }
    }
    sl_buf_free(&out);
    return NULL;
}

Test(threads, one_regex_many_threads) {
    sl_regex *re = NULL;
    cr_assert_eq(sl_regex_compile("(\\d+)", 5, 0, &re, NULL), SL_OK);
    enum {
        T = 8
    };
    pthread_t th[T];
    thread_arg args[T];
    for (int i = 0; i < T; i++) {
        args[i] = (thread_arg){re, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        cr_assert(args[i].ok, "thread %d", i);
    }
    sl_regex_free(re);
}

static size_t countdown;
static bool armed;
static size_t live;

static void *a_alloc(void *ctx, size_t size) {
    SL_UNUSED(ctx);
    if (armed && countdown-- == 0) {
        return NULL;
    }
    live += size;
    return malloc(size);
}

static void *a_realloc(void *ctx, void *p, size_t old, size_t size) {
    SL_UNUSED(ctx);
    if (armed && countdown-- == 0) {
        return NULL;
    }
    live += size;
    live -= old;
    return realloc(p, size);
}

static void a_free(void *ctx, void *p, size_t size) {
    SL_UNUSED(ctx);
    if (p) {
        live -= size;
    }
    free(p);
}

Test(oom, compile_and_replace_fail_cleanly) {
    sl_allocator a = {a_alloc, a_realloc, a_free, NULL};
    sl_set_allocator(&a);
    bool done = false;
    for (size_t n = 0; n < 100 && !done; n++) {
        countdown = n;
        armed = true;
        sl_regex *re = NULL;
        sl_buf out = {0};
        sl_error err = {0};
        sl_status rc = sl_regex_compile("(?P<k>\\w+)=(\\d+)", 16, 0, &re, &err);
        if (rc == SL_OK) {
            rc = sl_regex_replace(re, "a=1 b=2", 7, "$k:${2}", 7, &out, NULL,
                                  &err);
        }
        armed = false;
        if (rc == SL_OK) {
            cr_assert_str_eq(out.ptr, "a:1 b:2");
            done = true;
        } else {
            cr_assert_eq(rc, SL_ENOMEM, "n=%zu: %s", n, err.msg);
        }
        sl_buf_free(&out);
        sl_regex_free(re);
        cr_assert_eq(live, 0, "n=%zu leaked %zu", n, live);
    }
    cr_assert(done);
    sl_set_allocator(NULL);
}
