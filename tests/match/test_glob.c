/* tests/match/test_glob.c: glob translation: globset's semantics (with and
 * without SL_PAT_GLOB_PATH), the exact regex text for simple cases, UTF-8
 * classes, and every syntax error. */
#include "helpers.h"

#include "base/base.h"

#define P  (SL_PAT_GLOB_PATH | SL_PAT_ALLOWEMPTY)
#define NP SL_PAT_ALLOWEMPTY

typedef struct glob_case {
    unsigned flags;
    const char *glob;
    const char *s;
    bool want;
} glob_case;

static const glob_case glob_cases[] = {
    /* literals and single stars */
    {P, "a", "a", true},
    {P, "a", "ab", false},
    {P, "a*b", "a_b", true},
    {P, "a*b*c", "abc", true},
    {P, "a*b*c", "a___b___c", true},
    {P, "abc*abc*abc", "abcabcabcabcabcabcabc", true},
    {P, "a*a*a*a*a*a*a*a*a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true},
    {P, "a*b[xyz]c*d", "abxcdbxcddd", true},
    {P, "*.rs", ".rs", true},
    {P, "\xe2\x98\x83", "\xe2\x98\x83", true},
    {P, "*", "", true},
    {P, "*", "a.b.c", true}, /* '.' is not a separator */
    {P, "*", "a/b", false},  /* '*' never crosses '/' */
    {NP, "*", "a/b", true},  /* unless not a path glob */
    {P, "?", "/", false},
    {NP, "?", "/", true},
    {P, "a?c", "abc", true},
    {P, "a?c", "ac", false},
    {P, "a?c",
     "a\xc3\xa9"
     "c",
     true}, /* one character, two bytes */
    {P, "a??c",
     "a\xc3\xa9"
     "c",
     false},
    {P, "*\n*", "a\nb", true},
    {NP, "a*", "a\nb", true},
    /* double stars */
    {P, "some/**/needle.txt", "some/needle.txt", true},
    {P, "some/**/needle.txt", "some/one/needle.txt", true},
    {P, "some/**/needle.txt", "some/one/two/needle.txt", true},
    {P, "some/**/**/needle.txt", "some/needle.txt", true},
    {P, "**", "abcde", true},
    {P, "**", "", true},
    {P, "**", "/x/.asdf", true},
    {P, "**/test", "one/two/test", true},
    {P, "**/test", "test", true},
    {P, "**/test", "/test", true},
    {P, "**/test", "atest", false},
    {P, "/**/test", "/one/two/test", true},
    {P, "/**/test", "/test", true},
    {P, "**/.*", "abc/.abc", true},
    {P, "**/foo/bar", "foo/bar", true},
    {P, ".*/**", ".abc/abc", true},
    {P, "test/**", "test/", true},
    {P, "test/**", "test/one/two", true},
    {P, "test/**", "test", false},
    {P, "a**", "abc", true}, /* elsewhere '**' is '*' */
    {P, "a**", "a/b", false},
    {P, "**a", "b/a", false},
    {P, "a/**b", "a/xb", true},
    {P, "a/**b", "a/x/b", false},
    {P, "**/test_*.py", "tests/unit/test_a.py", true},
    {P, "**/test_*.py", "tests/unit/helper.py", false},
    /* classes */
    {P, "a[0-9]b", "a0b", true},
    {P, "a[0-9]b", "a9b", true},
    {P, "a[0-9]b", "aXb", false},
    {P, "a[!0-9]b", "a_b", true},
    {P, "a[!0-9]b", "a5b", false},
    {P, "a[^0-9]b", "a_b", true},
    {P, "[a-z123]", "1", true},
    {P, "[abc-]", "-", true},
    {P, "[-abc]", "-", true},
    {P, "[-a-c]", "b", true},
    {P, "[a-c-]", "b", true},
    {P, "[-]", "-", true},
    {P, "[]]", "]", true},
    {P, "[!]]", "]", false},
    {P, "[!]]", "a", true},
    {P, "[]-z]", "a", true},
    {P, "[*]", "*", true},
    {P, "[*]", "a", false},
    {P, "_[[]_[]]_[?]_[*]_!_", "_[_]_?_*_!_", true},
    {P, "[!a]", "/", true}, /* classes may match '/' (as globset) */
    {P, "[!a]", "\xc3\xa9", true},
    {P, "[\xc3\xa9]", "\xc3\xa9", true},
    {P, "[\xc3\xa0-\xc3\xbf]", "\xc3\xa9", true},
    {P, "[\xc3\xa0-\xc3\xbf]", "\xc3\x80", false},
    {P, "[a-\xf0\x9f\x98\x80]", "\xe4\xb8\xad", true},
    {P, "[!a-\xf0\x9f\x98\x80]", "\xe4\xb8\xad", false},
    {P, "[!a]", "\xff", true}, /* a stray byte is one character */
    /* alternation */
    {P, "a,b", "a,b", true},
    {P, ",", ",", true},
    {P, "{a,b}", "a", true},
    {P, "{a,b}", "b", true},
    {P, "{a,b}", "c", false},
    {P, "{**/src/**,foo}", "abc/src/bar", true},
    {P, "{**/src/**,foo}", "foo", true},
    {P, "{[}],foo}", "}", true},
    {P, "{foo}", "foo", true},
    {P, "{*.foo,*.bar,*.wat}", "test.foo", true},
    {P, "{*.foo,*.bar,*.wat}", "test.wat", true},
    {P, "{a,}", "a", true},
    {P, "{a,}", "", false}, /* empty alternates are dropped */
    {P, "x{,}y", "xy", true},
    {P, "{a,{b,c}}", "c", true},
    {P, "{{a,b},{c,d}}", "d", true},
    /* escapes and case */
    {P, "\\*", "*", true},
    {P, "\\*", "a", false},
    {P, "\\[a\\]", "[a]", true},
    {P | SL_PAT_CASELESS, "aBcDeFg", "ABCDEFG", true},
    {P, "aBcDeFg", "ABCDEFG", false},
    {P | SL_PAT_CASELESS, "[a-c]x", "Bx", true},
};

Test(glob, translation_table) {
    for (size_t i = 0; i < SL_ARRAY_LEN(glob_cases); i++) {
        const glob_case *c = &glob_cases[i];
        cr_expect_eq(matches1(SL_PAT_GLOB, c->flags, c->glob, c->s), c->want,
                     "case %zu: glob %s on %s (want %d)", i, c->glob, c->s,
                     c->want);
    }
}

static void to_regex(const char *glob, unsigned flags, const char *want) {
    sl_buf b = {0};
    sl_error err = {0};
    cr_assert_eq(sl_glob_to_regex(glob, strlen(glob), flags, &b, &err), SL_OK,
                 "%s: %s", glob, err.msg);
    cr_assert_str_eq(b.ptr, want, "%s", glob);
    sl_buf_free(&b);
}

Test(glob, regex_text) {
    to_regex("a", SL_PAT_GLOB_PATH, "^a\\z");
    to_regex("*", SL_PAT_GLOB_PATH, "^[^/]*\\z");
    to_regex("*", 0, "^[\\x00-\\xff]*\\z");
    to_regex("a.b", 0, "^a\\x2eb\\z");
    to_regex("**", SL_PAT_GLOB_PATH, "^[\\x00-\\xff]*\\z");
    to_regex("**/b", SL_PAT_GLOB_PATH, "^(?:/?|[\\x00-\\xff]*/)b\\z");
    to_regex("a/**", SL_PAT_GLOB_PATH, "^a/[\\x00-\\xff]*\\z");
    to_regex("a/**/b", SL_PAT_GLOB_PATH, "^a(?:/|/[\\x00-\\xff]*/)b\\z");
    to_regex("{a,b}", 0, "^(?:a|b)\\z");
    to_regex("{a,}", 0, "^(?:a)\\z");
    to_regex("x{,}", 0, "^x\\z");
    to_regex("[a-c]", 0, "^(?:[a-c])\\z");
}

Test(glob, appends_to_the_buffer) {
    sl_buf b = {0};
    sl_buf_append(&b, "x", 1);
    cr_assert_eq(sl_glob_to_regex("a", 1, 0, &b, NULL), SL_OK);
    cr_assert_str_eq(b.ptr, "x^a\\z");
    cr_assert_eq(sl_glob_to_regex("[a", 2, 0, &b, NULL), SL_EPATTERN);
    cr_assert_str_eq(b.ptr, "x^a\\z", "a failed call appends nothing");
    sl_buf_free(&b);
}

static void glob_err(const char *glob, sl_status code, const char *msg) {
    sl_buf b = {0};
    sl_error err = {0};
    cr_assert_eq(
        sl_glob_to_regex(glob, strlen(glob), SL_PAT_GLOB_PATH, &b, &err), code,
        "%s", glob);
    cr_assert_eq(err.code, code);
    cr_assert_str_eq(err.msg, msg, "%s", glob);
    cr_assert_eq(b.len, 0);
    sl_buf_free(&b);
}

Test(glob, syntax_errors) {
    glob_err("[", SL_EPATTERN,
             "invalid glob \"[\": unclosed character class; missing ']'");
    glob_err("[]", SL_EPATTERN,
             "invalid glob \"[]\": unclosed character class; missing ']'");
    glob_err("[!]", SL_EPATTERN,
             "invalid glob \"[!]\": unclosed character class; missing ']'");
    glob_err("[z-a]", SL_EPATTERN,
             "invalid glob \"[z-a]\": invalid range; 'z' > 'a'");
    glob_err("{a,b", SL_EPATTERN,
             "invalid glob \"{a,b\": unclosed alternate group; missing '}' "
             "(maybe escape '{' with '[{]'?)");
    glob_err("{a,{b,c}", SL_EPATTERN,
             "invalid glob \"{a,{b,c}\": unclosed alternate group; missing "
             "'}' (maybe escape '{' with '[{]'?)");
    glob_err("a,b}", SL_EPATTERN,
             "invalid glob \"a,b}\": unopened alternate group; missing '{' "
             "(maybe escape '}' with '[}]'?)");
    glob_err("a\\", SL_EPATTERN, "invalid glob \"a\\\": dangling '\\'");
    glob_err("\xff", SL_EPATTERN,
             "invalid glob \"\xff\": pattern is not valid utf-8");
    char deep[80];
    memset(deep, '{', 40);
    memset(deep + 40, '}', 39);
    deep[79] = '\0';
    sl_buf b = {0};
    sl_error err = {0};
    cr_assert_eq(sl_glob_to_regex(deep, strlen(deep), 0, &b, &err), SL_ELIMIT);
    cr_assert(strstr(err.msg, "\": alternate groups nested too deeply"), "%s",
              err.msg);
    cr_assert_eq(sl_glob_to_regex(NULL, 1, 0, &b, NULL), SL_EINVAL);
    cr_assert_eq(sl_glob_to_regex("a", 1, 0, NULL, NULL), SL_EINVAL);
}

Test(glob, compiled_glob_error_has_the_pattern_position) {
    sl_pat p = mkpat(SL_PAT_GLOB, SL_PAT_GLOB_PATH, "{a", 1);
    p.where = (sl_pos){"f.toml", 9, 14};
    sl_error err = {0};
    cr_assert_eq(sl_pat_check(&p, &err), SL_EPATTERN);
    cr_assert_eq(err.line, 9);
    cr_assert_eq(err.col, 14);
}
