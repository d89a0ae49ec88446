/* tests/doc/test_json_scan.c: the JSON reader's string scanning at every
 * position. A string is scanned 16 bytes at a time (SSE2), then 8 (SWAR),
 * then byte by byte as the end of the text nears, so each case is run
 * with the string at the end of the text and followed by more text, for
 * every length and offset up to past two 32-byte blocks: every kernel
 * meets every byte class (plain, '"', '\\', escapes, control characters,
 * valid and invalid UTF-8), and all must give the byte-wise answer. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "doc/private.h"

enum {
    MAX_LEN = 70, /* string bytes: past two 32-byte blocks */
    MAX_PAD = 17  /* bytes before the string: every alignment mod 16 */
};

/* Load text; returns the status and fills err. */
static sl_status load(sl_doc *doc, const char *text, size_t len,
                      sl_error *err) {
    *err = (sl_error){0};
    return sl_doc_load(doc, text, len, SL_FORMAT_JSON, "s.json", NULL, err);
}

/* text = pad spaces, '[', '"', body, '"', then "]" or "]" + tail: the
 * string ends the text but for the bracket, or is followed by 40 more
 * bytes. Returns the length. */
static size_t build(char *text, size_t pad, const char *body, size_t blen,
                    bool tail) {
    size_t n = 0;
    memset(text, ' ', pad);
    n = pad;
    text[n++] = '[';
    text[n++] = '"';
    memcpy(text + n, body, blen);
    n += blen;
    text[n++] = '"';
    if (tail) {
        const char *more = ",\"0123456789012345678901234567890123\"";
        memcpy(text + n, more, strlen(more));
        n += strlen(more);
    }
    text[n++] = ']';
    return n;
}

Test(json_scan, plain_strings_of_every_length_and_alignment) {
    sl_doc *doc = sl_doc_new();
    char body[MAX_LEN], text[MAX_LEN + MAX_PAD + 64];
    for (size_t len = 0; len <= MAX_LEN - 1; len++) {
        for (size_t i = 0; i < len; i++) {
            body[i] = (char)('a' + (i * 7 + len) % 26);
        }
        for (size_t pad = 0; pad < MAX_PAD; pad++) {
            for (int tail = 0; tail < 2; tail++) {
                size_t n = build(text, pad, body, len, tail);
                sl_error err;
                cr_assert_eq(load(doc, text, n, &err), SL_OK, "%s", err.msg);
                sl_str s = sl_node_str(sl_node_at(sl_doc_root(doc), 0));
                cr_assert_eq(s.len, len);
                cr_assert(memcmp(s.ptr, body, len) == 0);
            }
        }
    }
    sl_doc_free(doc);
}

/* An escape at every offset: decoded in place, the raw text kept. */
Test(json_scan, escapes_at_every_offset_decode) {
    static const struct {
        const char *esc, *out;
    } escs[] = {
        {"\\n", "\n"},           {"\\\"", "\""},
        {"\\\\", "\\"},          {"\\/", "/"},
        {"\\u00e9", "\xc3\xa9"}, {"\\ud83d\\ude00", "\xf0\x9f\x98\x80"}};
    sl_doc *doc = sl_doc_new();
    char body[MAX_LEN + 16], want[MAX_LEN + 16], text[MAX_LEN + MAX_PAD + 80];
    for (size_t e = 0; e < sizeof(escs) / sizeof(*escs); e++) {
        size_t el = strlen(escs[e].esc), ol = strlen(escs[e].out);
        for (size_t at = 0; at + el <= MAX_LEN; at++) {
            size_t len = MAX_LEN - 20 + at % 7;
            if (at + el > len) {
                len = at + el;
            }
            memset(body, 'x', len);
            memcpy(body + at, escs[e].esc, el);
            memset(want, 'x', at);
            memcpy(want + at, escs[e].out, ol);
            memset(want + at + ol, 'x', len - at - el);
            size_t wlen = len - el + ol;
            for (size_t pad = 0; pad < MAX_PAD; pad += 5) {
                for (int tail = 0; tail < 2; tail++) {
                    size_t n = build(text, pad, body, len, tail);
                    sl_error err;
                    cr_assert_eq(load(doc, text, n, &err), SL_OK, "%s: %s",
                                 escs[e].esc, err.msg);
                    sl_str s = sl_node_str(sl_node_at(sl_doc_root(doc), 0));
                    cr_assert_eq(s.len, wlen, "%s at %zu", escs[e].esc, at);
                    cr_assert(memcmp(s.ptr, want, wlen) == 0, "%s at %zu",
                              escs[e].esc, at);
                }
            }
        }
    }
    sl_doc_free(doc);
}

/* Bad bytes at every offset: the error and its column (ASCII before the
 * bad byte, so column = byte + 1) are those of a byte-wise reading, and
 * the first problem in the string is the one reported. */
static void bad_at_every_offset(const char *bad, size_t blen, sl_status code,
                                const char *msg) {
    sl_doc *doc = sl_doc_new();
    char body[MAX_LEN + 8], text[MAX_LEN + MAX_PAD + 80];
    for (size_t at = 0; at + blen <= MAX_LEN; at++) {
        size_t len = MAX_LEN - 30 + at % 11;
        if (at + blen > len) {
            len = at + blen;
        }
        memset(body, 'y', len);
        memcpy(body + at, bad, blen);
        for (size_t pad = 0; pad < MAX_PAD; pad += 3) {
            for (int tail = 0; tail < 2; tail++) {
                size_t n = build(text, pad, body, len, tail);
                sl_error err;
                sl_status rc = load(doc, text, n, &err);
                cr_assert_eq(rc, code, "byte %zu pad %zu: %d %s", at, pad, rc,
                             err.msg);
                cr_assert_eq(err.line, 1);
                cr_assert_eq(err.col, (uint32_t)(pad + 2 + at + 1),
                             "byte %zu pad %zu: col %u", at, pad, err.col);
                cr_assert_str_eq(err.msg, msg);
            }
        }
    }
    sl_doc_free(doc);
}

Test(json_scan, invalid_utf8_at_every_offset_is_eutf8) {
    static const char *const bad[] = {"\xff",
                                      "\x80",
                                      "\xc3",
                                      "\xc0\x80",
                                      "\xe3\x81",
                                      "\xed\xa0\x80",
                                      "\xe0\x80\x80",
                                      "\xf4\x90\x80\x80",
                                      "\xf0\x80\x80\x80",
                                      "\xc3\x28"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        bad_at_every_offset(bad[i], strlen(bad[i]), SL_EUTF8,
                            "invalid utf-8 in string");
    }
}

Test(json_scan, control_bytes_at_every_offset_are_eparse) {
    for (int c = 0; c < 0x20; c += 7) {
        char b[1] = {(char)c};
        bad_at_every_offset(b, 1, SL_EPARSE, "control character in string");
    }
    bad_at_every_offset("\x1f", 1, SL_EPARSE, "control character in string");
}

/* Valid multi-byte characters at every offset parse, zero-copy. */
Test(json_scan, valid_utf8_at_every_offset) {
    static const char *const ok[] = {"\xc3\xa9", "\xe6\x97\xa5",
                                     "\xf0\x9f\x98\x80", "\xef\xbf\xbf"};
    sl_doc *doc = sl_doc_new();
    char body[MAX_LEN + 8], text[MAX_LEN + MAX_PAD + 80];
    for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
        size_t cl = strlen(ok[i]);
        for (size_t at = 0; at + cl <= MAX_LEN; at++) {
            size_t len = at + cl + at % 13;
            if (len > MAX_LEN) {
                len = MAX_LEN;
            }
            memset(body, 'z', len);
            memcpy(body + at, ok[i], cl);
            for (size_t pad = 0; pad < MAX_PAD; pad += 4) {
                for (int tail = 0; tail < 2; tail++) {
                    size_t n = build(text, pad, body, len, tail);
                    sl_error err;
                    cr_assert_eq(load(doc, text, n, &err), SL_OK, "%s",
                                 err.msg);
                    sl_str s = sl_node_str(sl_node_at(sl_doc_root(doc), 0));
                    cr_assert_eq(s.len, len);
                    cr_assert(memcmp(s.ptr, body, len) == 0);
                }
            }
        }
    }
    sl_doc_free(doc);
}

/* The end of the text inside a string, at every length: unterminated,
 * reported at the opening quote. */
Test(json_scan, unterminated_at_every_length) {
    sl_doc *doc = sl_doc_new();
    char text[MAX_LEN + 4];
    for (size_t len = 0; len < MAX_LEN; len++) {
        text[0] = '"';
        memset(text + 1, 'q', len);
        if (len > 0 && len % 3 == 0) {
            text[len] = '\\'; /* an escape cut by the end */
        }
        sl_error err;
        cr_assert_eq(load(doc, text, len + 1, &err), SL_EPARSE, "len %zu", len);
        cr_assert_eq(err.col, 1, "len %zu: col %u", len, err.col);
        cr_assert_str_eq(err.msg, "unterminated string");
    }
    sl_doc_free(doc);
}
