/* tests/redact/test_source_copy.c: sl_redact_write_doc, which copies a
 * compact payload's source text around what it replaces, gives the same
 * bytes, audit and counts as sl_redact_write (node by node) on: the
 * redaction conformance inputs, agent-run events like the benchmark's,
 * thousands of random documents (drops first, last, in a row and all;
 * masks, hashes and detector hits in objects and lists; escapes, non-ASCII,
 * empty containers), pretty-printed input and trees changed after loading
 * (both written node by node). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>

#include <sluice/sluice.h>

#include "base/base.h"

/* The policies every document is redacted with: the default (detectors
 * on), one with every action on short keys, and drops only. */
static const char *const policies[] = {
    NULL,
    "{\"extends\":\"default\",\"detect\":[\"all\"],\"rules\":["
    "{\"action\":\"drop\",\"key\":\"regex:^d\"},"
    "{\"action\":\"hash\",\"key\":\"literal:h\"},"
    "{\"action\":\"mask\",\"key\":\"literal:m\"}]}",
    "{\"rules\":[{\"action\":\"drop\",\"key\":\"regex:^(d|x)\"}]}",
};
enum {
    N_POLICIES = sizeof(policies) / sizeof(policies[0])
};

static sl_redactor *policy(const char *json) {
    sl_redactor *r = NULL;
    sl_error err = {0};
    if (!json) {
        cr_assert_eq(sl_redactor_default(&r, &err), SL_OK, "%s", err.msg);
        return r;
    }
    sl_doc *doc = sl_doc_new();
    cr_assert_not_null(doc);
    cr_assert_eq(
        sl_doc_load(doc, json, strlen(json), SL_FORMAT_JSON, "p", NULL, &err),
        SL_OK, "%s", err.msg);
    cr_assert_eq(sl_redactor_load_doc(doc, NULL, &r, &err), SL_OK, "%s",
                 err.msg);
    sl_doc_free(doc);
    return r;
}

typedef struct result {
    sl_status rc;
    sl_buf out, audit;
    sl_redact_counts counts;
} result;

static void result_free(result *x) {
    sl_buf_free(&x->out);
    sl_buf_free(&x->audit);
}

/* Both ways on root of doc, output appended after a prefix (a buffer in
 * use), and compared. Returns whether the source was copied (root compact
 * and unchanged), for the tests that want one path or the other. */
static bool same_both_ways(sl_redact_ctx *ctx, const sl_doc *doc,
                           const sl_node *root, const char *what) {
    result a = {0}, b = {0};
    cr_assert_eq(sl_buf_append(&a.out, "prefix\n", 7), SL_OK);
    cr_assert_eq(sl_buf_append(&b.out, "prefix\n", 7), SL_OK);
    sl_error ea = {0}, eb = {0};
    a.rc = sl_redact_write(ctx, root, &a.out, &a.audit, &a.counts, &ea);
    b.rc =
        sl_redact_write_doc(ctx, doc, root, &b.out, &b.audit, &b.counts, &eb);
    cr_assert_eq(a.rc, b.rc, "%s: status %d vs %d", what, a.rc, b.rc);
    cr_assert_eq(a.out.len, b.out.len, "%s:\n%s\n%s", what, a.out.ptr,
                 b.out.ptr);
    cr_assert(memcmp(a.out.ptr, b.out.ptr, a.out.len) == 0, "%s:\n%s\n%s", what,
              a.out.ptr, b.out.ptr);
    cr_assert_eq(a.audit.len, b.audit.len, "%s", what);
    if (a.audit.len) {
        cr_assert(memcmp(a.audit.ptr, b.audit.ptr, a.audit.len) == 0,
                  "%s:\n%s\n%s", what, a.audit.ptr, b.audit.ptr);
    }
    cr_assert(memcmp(&a.counts, &b.counts, sizeof(a.counts)) == 0, "%s", what);
    if (a.rc != SL_OK) {
        cr_assert_eq(ea.code, eb.code, "%s", what);
        cr_assert_str_eq(ea.msg, eb.msg, "%s", what);
    }
    result_free(&a);
    result_free(&b);
    sl_str src;
    return sl_doc_node_source(doc, root, true, &src);
}

/* Parse text (must be valid) and compare both ways under every policy;
 * returns how many of the runs copied the source. */
static int check_text(sl_redact_ctx *const *ctx, const char *text, size_t len) {
    sl_doc *doc = sl_doc_new();
    cr_assert_not_null(doc);
    sl_error err = {0};
    sl_status rc =
        sl_doc_load(doc, text, len, SL_FORMAT_JSON, "in", NULL, &err);
    cr_assert_eq(rc, SL_OK, "%.*s: %s", (int)len, text, err.msg);
    int copied = 0;
    for (int p = 0; p < N_POLICIES; p++) {
        char what[200];
        snprintf(what, sizeof(what), "policy %d, input %.120s", p, text);
        copied += same_both_ways(ctx[p], doc, sl_doc_root(doc), what);
    }
    sl_doc_free(doc);
    return copied;
}

typedef struct fixture {
    sl_redactor *r[N_POLICIES];
    sl_redact_ctx *ctx[N_POLICIES];
} fixture;

static void fixture_init(fixture *f) {
    for (int p = 0; p < N_POLICIES; p++) {
        f->r[p] = policy(policies[p]);
        cr_assert_eq(sl_redact_ctx_new(f->r[p], &f->ctx[p], NULL), SL_OK);
    }
}

static void fixture_free(fixture *f) {
    for (int p = 0; p < N_POLICIES; p++) {
        sl_redact_ctx_free(f->ctx[p]);
        sl_redactor_free(f->r[p]);
    }
}

/* ---- random documents ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* keys the policies act on (d*, x*, h, m, the default's words) and keys
 * they leave alone */
static const char *const keys[] = {
    "a",      "b",       "d",         "d2",          "x",
    "h",      "m",       "id",        "user",        "password",
    "token",  "api_key", "apiKey",    "cookie",      "Authorization",
    "run_id", "content", "k\\u00e9y", "caf\xc3\xa9", "e\\\"q"};

/* strings, as JSON text between the quotes: plain, escaped, non-ASCII,
 * long enough for the detector gate, and secrets the detectors find */
static const char *const strings[] = {
    "",
    "plain",
    "with \\\"quotes\\\" and \\\\ and \\n and \\u00e9 and \\ud83d\\ude00",
    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e text na\xc3\xafve "
    "\xc3\xa9l\xc3\xa9phant",
    "the agent calls search results for query model returns summary of "
    "documents with context user asks about weather in paris and tokyo",
    "key AKIAIOSFODNN7EXAMPLE in the middle",
    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "mail bob.smith@example.com now",
    "ghp_0123456789abcdefghijABCDEFGHIJ012345 token",
    "https://user:pa55word@db.example.com:5432/x",
};

static void gen(sl_buf *b, int depth);

static void gen_scalar(sl_buf *b) {
    static const char *const lit[] = {
        "0",    "-1",   "42",    "1.5e3", "-0.25",
        "1E-7", "true", "false", "null",  "123456789012345678901234567890"};
    if (rnd(2)) {
        const char *s = strings[rnd(sizeof(strings) / sizeof(*strings))];
        sl_buf_append(b, "\"", 1);
        sl_buf_append(b, s, strlen(s));
        sl_buf_append(b, "\"", 1);
    } else {
        const char *s = lit[rnd(sizeof(lit) / sizeof(*lit))];
        sl_buf_append(b, s, strlen(s));
    }
}

static void gen(sl_buf *b, int depth) {
    uint32_t k = depth >= 5 ? 2 : rnd(6);
    if (k >= 2) {
        gen_scalar(b);
        return;
    }
    bool obj = k == 0;
    uint32_t n = rnd(6);
    sl_buf_append(b, obj ? "{" : "[", 1);
    for (uint32_t i = 0; i < n; i++) {
        if (i) {
            sl_buf_append(b, ",", 1);
        }
        if (obj) {
            const char *key = keys[rnd(sizeof(keys) / sizeof(*keys))];
            sl_buf_append(b, "\"", 1);
            sl_buf_append(b, key, strlen(key));
            sl_buf_append(b, "\":", 2);
        }
        gen(b, depth + 1);
    }
    sl_buf_append(b, obj ? "}" : "]", 1);
}

Test(source_copy, random_documents_same_bytes_audit_and_counts) {
    fixture f;
    fixture_init(&f);
    sl_buf b = {0};
    int copied = 0;
    for (int i = 0; i < 3000; i++) {
        b.len = 0;
        /* mostly containers at the root, where the copy applies */
        if (rnd(8)) {
            sl_buf_append(&b, "{\"run_id\":1,\"x\":", 16);
            gen(&b, 1);
            sl_buf_append(&b, ",\"d\":", 5);
            gen(&b, 1);
            sl_buf_append(&b, "}", 1);
        } else {
            gen(&b, 0);
        }
        copied += check_text(f.ctx, b.ptr, b.len);
    }
    /* the fast path was taken, not merely the fallback */
    cr_expect_gt(copied, 3000, "%d runs copied the source", copied);
    sl_buf_free(&b);
    fixture_free(&f);
}

Test(source_copy, drops_first_last_consecutive_and_all) {
    fixture f;
    fixture_init(&f);
    static const char *const docs[] = {
        "{\"d\":1}",
        "{\"d\":1,\"d2\":2}",
        "{\"d\":1,\"a\":2}",
        "{\"a\":1,\"d\":2}",
        "{\"a\":1,\"d\":2,\"b\":3}",
        "{\"d\":1,\"d2\":[1,2],\"a\":{\"d\":{}},\"x\":\"s\",\"b\":3,\"d\":4}",
        "[{\"d\":1},{\"a\":{\"d\":1,\"d2\":2}},{}]",
        "{\"h\":{\"b\":[1,{\"m\":2}]},\"m\":\"v\",\"a\":[\"key "
        "AKIAIOSFODNN7EXAMPLE\",1]}",
        "{}",
        "[]",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
        int copied = check_text(f.ctx, docs[i], strlen(docs[i]));
        cr_expect_eq(copied, N_POLICIES, "%s", docs[i]);
    }
    fixture_free(&f);
}

Test(source_copy, agent_run_events_like_the_benchmark) {
    fixture f;
    fixture_init(&f);
    static const char *const docs[] = {
        "{\"run_id\":\"b052d17e1543bed37bb9a129ceb74b97\",\"step_id\":0,"
        "\"timestamp\":\"2026-11-23T17:53:15.269650Z\",\"type\":\"tool_call\","
        "\"tool\":\"http_request\",\"args\":{\"method\":\"POST\",\"url\":"
        "\"https://api.example.com/v1/x\",\"headers\":{\"Authorization\":"
        "\"Bearer abc\",\"Content-Type\":\"application/json\",\"X-Api-Key\":"
        "\"sk-123\"},\"body\":{\"query\":\"weather in paris\\nand tokyo\","
        "\"api_key\":\"x\"}},\"duration\":0.125}",
        "{\"run_id\":\"b0\",\"type\":\"llm_call\",\"model\":\"gpt-4o\","
        "\"params\":{\"temperature\":0.7,\"max_tokens\":1024,\"top_p\":1.0},"
        "\"messages\":[{\"role\":\"user\",\"content\":\"caf\xc3\xa9 "
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e my key is AKIAIOSFODNN7EXAMPLE "
        "ok\"},{\"role\":\"assistant\",\"content\":\"noted\"}],\"usage\":{"
        "\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15},"
        "\"session_id\":\"abc\"}",
        "{\"type\":\"tool_result\",\"result\":{\"items\":[{\"title\":\"t\","
        "\"url\":\"https://example.org/1\",\"score\":0.73,\"snippet\":\"s\","
        "\"meta\":{\"author\":\"someone\",\"cookie\":\"5675e6e8\",\"rank\":0}}"
        "]},\"status\":200}",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
        int copied = check_text(f.ctx, docs[i], strlen(docs[i]));
        cr_expect_eq(copied, N_POLICIES, "%s", docs[i]);
    }
    fixture_free(&f);
}

/* Every input of ../shared/conformance/redaction/cases.json, compacted
 * and as given (pretty), under each policy. */
Test(source_copy, redaction_conformance_inputs) {
    const char *shared = getenv("SLUICE_SHARED");
    char path[4096];
    snprintf(path, sizeof(path), "%s/conformance/redaction/cases.json",
             shared ? shared : "../shared");
    sl_doc *cases = NULL;
    sl_error err = {0};
    if (sl_doc_parse_file(path, SL_FORMAT_JSON, NULL, &cases, &err) != SL_OK) {
        cr_skip_test("no conformance cases at %s", path);
    }
    fixture f;
    fixture_init(&f);
    const sl_node *list = sl_doc_root(cases);
    size_t n = 0;
    sl_buf text = {0};
    for (size_t i = 0; i < sl_node_len(list); i++) {
        const sl_node *in = sl_node_get(sl_node_at(list, i), "input");
        if (!in || sl_node_kind_of(in) == SL_NODE_NULL) {
            continue;
        }
        text.len = 0;
        cr_assert_eq(sl_json_write(&text, in, SL_WRITE_COMPACT, NULL), SL_OK);
        cr_expect_eq(check_text(f.ctx, text.ptr, text.len),
                     sl_node_kind_of(in) == SL_NODE_OBJECT ||
                             sl_node_kind_of(in) == SL_NODE_ARRAY
                         ? N_POLICIES
                         : 0);
        text.len = 0;
        cr_assert_eq(sl_json_write(&text, in, SL_WRITE_PRETTY, NULL), SL_OK);
        check_text(f.ctx, text.ptr, text.len);
        n++;
    }
    cr_expect_gt(n, 20, "%zu inputs", n);
    sl_buf_free(&text);
    fixture_free(&f);
    sl_doc_free(cases);
}

Test(source_copy, pretty_input_is_written_node_by_node) {
    fixture f;
    fixture_init(&f);
    const char *t = "{\"a\": 1, \"password\": \"x\", \"d\": [1, 2]}";
    cr_expect_eq(check_text(f.ctx, t, strlen(t)), 0);
    fixture_free(&f);
}

/* A tree changed after loading: its source no longer says what it holds,
 * so the output follows the tree, as sl_redact_write's does. */
Test(source_copy, changed_tree_is_written_node_by_node) {
    fixture f;
    fixture_init(&f);
    const char *t = "{\"a\":{\"b\":\"old\",\"d\":1},\"c\":[1,2]}";
    sl_doc *doc = sl_doc_new();
    cr_assert_eq(
        sl_doc_load(doc, t, strlen(t), SL_FORMAT_JSON, "in", NULL, NULL),
        SL_OK);
    sl_node *b =
        (sl_node *)sl_node_get(sl_node_get(sl_doc_root(doc), "a"), "b");
    cr_assert_eq(sl_node_set_string(doc, b, "new", 3), SL_OK);
    for (int p = 0; p < N_POLICIES; p++) {
        cr_expect_not(same_both_ways(f.ctx[p], doc, sl_doc_root(doc), t));
    }
    sl_buf out = {0};
    cr_assert_eq(sl_redact_write_doc(f.ctx[2], doc, sl_doc_root(doc), &out,
                                     NULL, NULL, NULL),
                 SL_OK);
    cr_expect_str_eq(out.ptr, "{\"a\":{\"b\":\"new\"},\"c\":[1,2]}");
    sl_buf_free(&out);
    sl_doc_free(doc);
    fixture_free(&f);
}

/* Several values of one text (a stream, as sluice redact reads it): each
 * value's source is its own span of the shared text. */
Test(source_copy, stream_values_copy_their_own_span) {
    fixture f;
    fixture_init(&f);
    const char *t = "{\"a\":1,\"d\":2}\n{\"password\":\"p\",\"b\":[true]}\n";
    static const char *const want[] = {"{\"a\":1}",
                                       "{\"password\":\"[REDACTED]\",\"b\":"
                                       "[true]}"};
    sl_doc *doc = sl_doc_new();
    size_t off = 0;
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(sl_doc_load_next(doc, t, strlen(t), &off, "s", NULL, NULL),
                     SL_OK);
        sl_buf out = {0};
        cr_assert_eq(sl_redact_write_doc(f.ctx[1], doc, sl_doc_root(doc), &out,
                                         NULL, NULL, NULL),
                     SL_OK);
        cr_expect_str_eq(out.ptr, want[i]);
        sl_buf_free(&out);
    }
    sl_doc_free(doc);
    fixture_free(&f);
}

/* The k-th node of n in pre-order (n itself is 0), or NULL; *k counts
 * down the nodes passed. */
static sl_node *nth_node(const sl_node *n, size_t *k) {
    if (*k == 0) {
        return (sl_node *)n;
    }
    --*k;
    sl_node_kind kind = sl_node_kind_of(n);
    if (kind != SL_NODE_OBJECT && kind != SL_NODE_ARRAY) {
        return NULL;
    }
    for (size_t i = 0; i < sl_node_len(n); i++) {
        sl_node *hit = nth_node(sl_node_at(n, i), k);
        if (hit) {
            return hit;
        }
    }
    return NULL;
}

/* One change anywhere in a compact tree (each node in turn: a string
 * under a kept key, a dropped or masked value, an array element, a whole
 * container, a key renamed, a member removed) makes the copy give way to
 * node-by-node writing at whatever point the walk meets it: the output
 * is still the tree's, byte for byte as sl_redact_write's. */
Test(source_copy, a_change_anywhere_gives_the_trees_bytes) {
    fixture f;
    fixture_init(&f);
    const char *t = "{\"a\":{\"b\":\"old\",\"d\":1,\"m\":[true,null]},"
                    "\"c\":[1,\"ghp_0123456789abcdefghijABCDEFGHIJ012345\","
                    "{\"x\":2,\"h\":\"v\"},[]],\"password\":\"p\",\"e\":{}}";
    for (size_t k = 0;; k++) {
        for (int change = 0; change < 4; change++) {
            sl_doc *doc = sl_doc_new();
            cr_assert_eq(sl_doc_load(doc, t, strlen(t), SL_FORMAT_JSON, "in",
                                     NULL, NULL),
                         SL_OK);
            size_t left = k;
            sl_node *n = nth_node(sl_doc_root(doc), &left);
            if (!n) {
                sl_doc_free(doc);
                cr_assert_eq(k, 16, "every node of the tree was changed once");
                fixture_free(&f);
                return;
            }
            bool obj = sl_node_kind_of(n) == SL_NODE_OBJECT;
            if (change == 0) {
                cr_assert_eq(sl_node_set_string(doc, n, "new\n", 4), SL_OK);
            } else if (change == 1) {
                cr_assert_eq(sl_node_set_container(doc, n, SL_NODE_ARRAY),
                             SL_OK);
            } else if (change == 2 && obj && sl_node_len(n)) {
                cr_assert_eq(sl_node_set_key(doc, n, 0, "password", 8), SL_OK);
            } else if (change == 3 && sl_node_len(n)) {
                cr_assert_eq(sl_node_remove(n, 0), SL_OK);
            }
            char what[64];
            snprintf(what, sizeof(what), "node %zu, change %d", k, change);
            for (int p = 0; p < N_POLICIES; p++) {
                same_both_ways(f.ctx[p], doc, sl_doc_root(doc), what);
            }
            sl_doc_free(doc);
        }
    }
}
