/* tests/redact/test_redact.c: rule forms (substring, glob, regex, literal,
 * word, path with * and **, key+path), first match wins, safe keys, the
 * default SAFE policy's keep and mask lists, hashing vectors (sha256sum of
 * the text, RFC 8785 text, HMAC), determinism, immutability, byte-for-byte
 * output, audit summaries, detectors, policy-file errors with line:col and
 * allocation failure. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sluice/sluice.h>

#include "base/base.h"

static sl_doc *parse(const char *text, const char *file) {
    sl_doc *doc = sl_doc_new();
    cr_assert_not_null(doc);
    sl_error err = {0};
    sl_status rc =
        sl_doc_load(doc, text, strlen(text), SL_FORMAT_JSON, file, NULL, &err);
    cr_assert_eq(rc, SL_OK, "%s: %u:%u: %s", text, err.line, err.col, err.msg);
    return doc;
}

static sl_redactor *policy(const char *json) {
    sl_redactor *r = NULL;
    sl_error err = {0};
    if (!json) {
        cr_assert_eq(sl_redactor_default(&r, &err), SL_OK, "%s", err.msg);
        return r;
    }
    sl_doc *doc = parse(json, "p.json");
    sl_status rc = sl_redactor_load_doc(doc, NULL, &r, &err);
    cr_assert_eq(rc, SL_OK, "%s: %u:%u: %s", json, err.line, err.col, err.msg);
    sl_doc_free(doc);
    return r;
}

/* Redact input with r; returns the output text (malloc'd) and, when audit
 * is non-NULL, the audit text. */
static char *run(const sl_redactor *r, const char *input, char **audit) {
    sl_doc *doc = parse(input, "in.json");
    sl_redact_ctx *ctx = NULL;
    sl_error err = {0};
    cr_assert_eq(sl_redact_ctx_new(r, &ctx, &err), SL_OK);
    sl_buf out = {0}, ab = {0};
    sl_status rc = sl_redact_write(ctx, sl_doc_root(doc), &out,
                                   audit ? &ab : NULL, NULL, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    char *res = strdup(out.ptr ? out.ptr : "");
    if (audit) {
        *audit = strdup(ab.ptr ? ab.ptr : "");
    }
    sl_buf_free(&out);
    sl_buf_free(&ab);
    sl_redact_ctx_free(ctx);
    sl_doc_free(doc);
    return res;
}

static void expect(const char *pol, const char *input, const char *want) {
    sl_redactor *r = policy(pol);
    char *got = run(r, input, NULL);
    cr_expect_str_eq(got, want, "policy %s\ninput %s", pol ? pol : "default",
                     input);
    free(got);
    sl_redactor_free(r);
}

/* ---- rule forms ---- */

Test(rules, substring_is_default_and_caseless) {
    expect("{\"rules\":[{\"action\":\"mask\",\"key\":\"secret\"}]}",
           "{\"SECRET_KEY\":1,\"my_Secret\":2,\"secretive\":3,\"x\":4}",
           "{\"SECRET_KEY\":\"[REDACTED]\",\"my_Secret\":\"[REDACTED]\","
           "\"secretive\":\"[REDACTED]\",\"x\":4}");
}

Test(rules, glob_is_anchored_and_caseless) {
    expect("{\"rules\":[{\"action\":\"mask\",\"key\":\"glob:x-*-id\"}]}",
           "{\"X-Req-ID\":1,\"ax-b-id\":2,\"x--id\":3}",
           "{\"X-Req-ID\":\"[REDACTED]\",\"ax-b-id\":2,\"x--id\":"
           "\"[REDACTED]\"}");
}

Test(rules, regex_is_caseless_search) {
    expect("{\"rules\":[{\"action\":\"drop\",\"key\":\"regex:^ip_v[46]$\"}]}",
           "{\"IP_V4\":1,\"ip_v6\":2,\"ip_v5\":3,\"my_ip_v4\":4}",
           "{\"ip_v5\":3,\"my_ip_v4\":4}");
}

Test(rules, literal_is_whole_key_caseless) {
    expect("{\"rules\":[{\"action\":\"mask\",\"key\":\"literal:Email\"}]}",
           "{\"email\":1,\"EMAIL\":2,\"email2\":3}",
           "{\"email\":\"[REDACTED]\",\"EMAIL\":\"[REDACTED]\",\"email2\":3}");
}

Test(rules, word_pattern_matches_whole_words) {
    expect("{\"rules\":[{\"action\":\"mask\",\"key\":\"word:user_id\"}]}",
           "{\"userId\":1,\"user_id\":2,\"USERID\":3,\"userIdentity\":4,"
           "\"the-user-id-x\":5}",
           "{\"userId\":\"[REDACTED]\",\"user_id\":\"[REDACTED]\",\"USERID\":"
           "\"[REDACTED]\",\"userIdentity\":4,\"the-user-id-x\":"
           "\"[REDACTED]\"}");
}

Test(rules, path_is_root_anchored_caseless) {
    expect("{\"rules\":[{\"action\":\"mask\",\"path\":\"headers.authorization\""
           "}]}",
           "{\"Headers\":{\"AUTHORIZATION\":1,\"x\":2},\"req\":{\"headers\":"
           "{\"authorization\":3}}}",
           "{\"Headers\":{\"AUTHORIZATION\":\"[REDACTED]\",\"x\":2},\"req\":"
           "{\"headers\":{\"authorization\":3}}}");
}

Test(rules, path_star_is_one_segment) {
    expect("{\"rules\":[{\"action\":\"mask\",\"path\":\"*.token\"}]}",
           "{\"token\":1,\"a\":{\"token\":2,\"b\":{\"token\":3}}}",
           "{\"token\":1,\"a\":{\"token\":\"[REDACTED]\",\"b\":{\"token\":3}}"
           "}");
}

Test(rules, path_double_star_is_any_depth) {
    expect("{\"rules\":[{\"action\":\"mask\",\"path\":\"**.token\"}]}",
           "{\"token\":1,\"a\":{\"token\":2,\"b\":[{\"token\":3}]}}",
           "{\"token\":\"[REDACTED]\",\"a\":{\"token\":\"[REDACTED]\",\"b\":"
           "[{\"token\":\"[REDACTED]\"}]}}");
    expect("{\"rules\":[{\"action\":\"mask\",\"path\":\"a.**.c\"}]}",
           "{\"a\":{\"c\":1,\"b\":{\"x\":{\"c\":2}}},\"c\":3}",
           "{\"a\":{\"c\":\"[REDACTED]\",\"b\":{\"x\":{\"c\":\"[REDACTED]\"}}},"
           "\"c\":3}");
}

Test(rules, list_elements_add_no_segment) {
    expect("{\"rules\":[{\"action\":\"mask\",\"path\":\"items.secret\"}]}",
           "{\"items\":[{\"secret\":1},[{\"secret\":2}]],\"items2\":{"
           "\"secret\":3}}",
           "{\"items\":[{\"secret\":\"[REDACTED]\"},[{\"secret\":"
           "\"[REDACTED]\"}]],\"items2\":{\"secret\":3}}");
}

Test(rules, escaped_dot_is_part_of_a_key) {
    const char *pol =
        "{\"rules\":[{\"action\":\"mask\",\"path\":\"a\\\\.b.c\"}]}";
    expect(pol, "{\"a.b\":{\"c\":1},\"a\":{\"b\":{\"c\":2}}}",
           "{\"a.b\":{\"c\":\"[REDACTED]\"},\"a\":{\"b\":{\"c\":2}}}");
}

Test(rules, key_and_path_must_both_match) {
    expect("{\"rules\":[{\"action\":\"mask\",\"key\":\"tok\",\"path\":"
           "\"auth.*\"}]}",
           "{\"auth\":{\"token\":1,\"user\":2},\"token\":3}",
           "{\"auth\":{\"token\":\"[REDACTED]\",\"user\":2},\"token\":3}");
}

Test(rules, first_matching_rule_wins) {
    expect("{\"rules\":[{\"action\":\"drop\",\"key\":\"b\",\"path\":\"x.b\"},"
           "{\"action\":\"mask\",\"key\":\"b\"},{\"action\":\"drop\",\"key\":"
           "\"b\"}]}",
           "{\"x\":{\"b\":1},\"b\":2}", "{\"x\":{},\"b\":\"[REDACTED]\"}");
    /* a later rule with a smaller pattern set id must not win */
    expect("{\"rules\":[{\"action\":\"hash\",\"path\":\"k\"},{\"action\":"
           "\"mask\",\"key\":\"k\"}]}",
           "{\"k\":\"abc\",\"kk\":1}",
           "{\"k\":\"hash:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410"
           "ff61f20015ad\",\"kk\":\"[REDACTED]\"}");
}

Test(rules, matched_container_is_replaced_whole) {
    expect("{\"rules\":[{\"action\":\"mask\",\"key\":\"cred\"},{\"action\":"
           "\"drop\",\"key\":\"user\"}]}",
           "{\"creds\":{\"user\":1},\"list\":[{\"cred\":[1,2]}]}",
           "{\"creds\":\"[REDACTED]\",\"list\":[{\"cred\":\"[REDACTED]\"}]}");
}

Test(rules, safe_keys_win_over_rules_but_children_are_redacted) {
    expect("{\"rules\":[{\"action\":\"mask\",\"key\":\"name\"}],\"safe_keys\":"
           "[\"NAME\"]}",
           "{\"name\":{\"username\":1},\"tool_name\":2}",
           "{\"name\":{\"username\":\"[REDACTED]\"},\"tool_name\":"
           "\"[REDACTED]\"}");
}

Test(rules, extends_default_puts_default_rules_first) {
    sl_redactor *r = policy("{\"extends\":\"default\",\"rules\":[{\"action\":"
                            "\"hash\",\"key\":\"email\"}]}");
    char *got =
        run(r, "{\"email\":\"a\",\"password\":\"p\",\"name\":\"n\"}", NULL);
    cr_expect_str_eq(got, "{\"email\":\"hash:ca978112ca1bbdcafac231b39a23dc4d"
                          "a786eff8147c4e72b9807785afee48bb\",\"password\":"
                          "\"[REDACTED]\",\"name\":\"n\"}");
    cr_expect_gt(sl_redactor_rule_count(r), 20);
    free(got);
    sl_redactor_free(r);
}

Test(rules, empty_policy_changes_nothing) {
    expect("{\"rules\":[]}", "{\"api_key\":\"x\"}", "{\"api_key\":\"x\"}");
}

Test(rules, scalar_and_array_roots_are_walked) {
    expect(NULL, "[{\"token\":1},2]", "[{\"token\":\"[REDACTED]\"},2]");
    expect(NULL, "\"plain\"", "\"plain\"");
}

/* ---- the default SAFE policy ---- */

static const char *const masked_keys[] = {
    "api_key",       "apikey",
    "API_KEY",       "apiKey",
    "APIKey",        "x-api-key",
    "X-Api-Key",     "token",
    "access_token",  "refresh_token",
    "bearer_token",  "auth_token",
    "X-Auth-Token",  "csrf_token",
    "csrfToken",     "csrftoken",
    "secret",        "client_secret",
    "SECRET_KEY",    "clientSecret",
    "password",      "user_password",
    "PASSWORD",      "passwd",
    "passphrase",    "private_key",
    "privatekey",    "privateKey",
    "credentials",   "credential",
    "auth",          "authorization",
    "Authorization", "Proxy-Authorization",
    "cookie",        "Cookie",
    "set-cookie",    "Set-Cookie",
    "session",       "sessionId",
    "session_id",    "SESSIONID",
    "csrf",          "bearer",
    "jwt",           "id_jwt",
    "oauth2_token",  "my secret",
    "db.password",   "secrets",
    "passwords",     "cookies",
};

static const char *const kept_keys[] = {
    "author",
    "authority",
    "authentication",
    "oauth",
    "max_tokens",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "tokenizer",
    "tokens",
    "monkey",
    "keyboard",
    "keys",
    "primary_key",
    "sort_key",
    "key",
    "passage",
    "secretary",
    "sessions_count",
    "cookiecutter",
    "email",
    "prompt",
    "response",
    "pwd",
    "pass",
    "tool_name",
    "duration_ms",
    "url",
    "jwtish",
    "bearerish",
    "csrfx",
    "authored_by",
};

Test(default_policy, masks_every_secret_word) {
    sl_redactor *r = policy(NULL);
    for (size_t i = 0; i < SL_ARRAY_LEN(masked_keys); i++) {
        char in[256], want[256];
        snprintf(in, sizeof(in), "{\"%s\":\"v\"}", masked_keys[i]);
        snprintf(want, sizeof(want), "{\"%s\":\"[REDACTED]\"}", masked_keys[i]);
        char *got = run(r, in, NULL);
        cr_expect_str_eq(got, want, "key %s", masked_keys[i]);
        free(got);
    }
    sl_redactor_free(r);
}

Test(default_policy, keeps_words_that_only_contain_a_secret_word) {
    sl_redactor *r = policy(NULL);
    for (size_t i = 0; i < SL_ARRAY_LEN(kept_keys); i++) {
        char in[256];
        snprintf(in, sizeof(in), "{\"%s\":12}", kept_keys[i]);
        char *got = run(r, in, NULL);
        cr_expect_str_eq(got, in, "key %s", kept_keys[i]);
        free(got);
    }
    sl_redactor_free(r);
}

Test(default_policy, safe_keys_are_never_touched) {
    const char *in = "{\"run_id\":1,\"event_id\":2,\"step_id\":3,\"timestamp\":"
                     "4,\"created_at\":5,\"started_at\":6,\"ended_at\":7,"
                     "\"status\":8,\"duration\":9,\"type\":10,\"name\":11,"
                     "\"tool\":12,\"model\":13,\"entrypoint\":14}";
    expect(NULL, in, in);
}

Test(default_policy, nested_and_lists) {
    expect(NULL,
           "{\"tool_calls\":[{\"args\":{\"api_key\":\"k\",\"url\":\"u\"},"
           "\"result\":{\"auth_token\":\"t\"}}],\"usage\":{\"prompt_tokens\":"
           "10}}",
           "{\"tool_calls\":[{\"args\":{\"api_key\":\"[REDACTED]\",\"url\":"
           "\"u\"},\"result\":{\"auth_token\":\"[REDACTED]\"}}],\"usage\":{"
           "\"prompt_tokens\":10}}");
}

/* ---- output text ---- */

Test(output, untouched_text_is_byte_for_byte) {
    const char *in = "{\"n\":1.50e+2,\"s\":\"caf\\u00e9 \\/\",\"k\\u0041\":"
                     "-0.0,\"big\":123456789012345678901234567890,\"a\":[],"
                     "\"o\":{}}";
    expect(NULL, in, in);
}

Test(output, whitespace_is_dropped_key_order_kept) {
    expect(NULL, "{ \"z\" : 1 ,\n \"a\" : [ 1 , 2 ] , \"token\" : \"t\" }",
           "{\"z\":1,\"a\":[1,2],\"token\":\"[REDACTED]\"}");
}

Test(output, input_tree_is_not_changed) {
    sl_redactor *r = policy(NULL);
    const char *in = "{\"password\":\"p\",\"x\":{\"token\":[1]}}";
    sl_doc *doc = parse(in, "in.json");
    sl_redact_ctx *ctx = NULL;
    cr_assert_eq(sl_redact_ctx_new(r, &ctx, NULL), SL_OK);
    sl_buf out = {0}, before = {0}, after = {0};
    cr_assert_eq(sl_json_write(&before, sl_doc_root(doc), 0, NULL), SL_OK);
    cr_assert_eq(sl_redact_write(ctx, sl_doc_root(doc), &out, NULL, NULL, NULL),
                 SL_OK);
    cr_assert_eq(sl_json_write(&after, sl_doc_root(doc), 0, NULL), SL_OK);
    cr_expect_str_eq(before.ptr, after.ptr);
    cr_expect_str_eq(before.ptr, in);
    sl_buf_free(&out);
    sl_buf_free(&before);
    sl_buf_free(&after);
    sl_redact_ctx_free(ctx);
    sl_doc_free(doc);
    sl_redactor_free(r);
}

Test(output, same_input_same_output_across_contexts) {
    sl_redactor *r = policy("{\"rules\":[{\"action\":\"hash\",\"key\":\"h\"},"
                            "{\"action\":\"mask\",\"key\":\"m\"}]}");
    const char *in = "{\"h\":{\"b\":1,\"a\":[true,null]},\"m\":2,\"x\":{\"h\":"
                     "\"s\"}}";
    char *a = run(r, in, NULL);
    for (int i = 0; i < 5; i++) {
        char *b = run(r, in, NULL);
        cr_expect_str_eq(a, b);
        free(b);
    }
    free(a);
    sl_redactor_free(r);
}

/* ---- hashing ---- */

Test(hashing, string_hash_is_sha256sum_of_the_text) {
    /* printf 'user@example.com' | sha256sum */
    expect("{\"rules\":[{\"action\":\"hash\",\"key\":\"email\"}]}",
           "{\"email\":\"user@example.com\"}",
           "{\"email\":\"hash:b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0"
           "e1cc1ffc5e475514\"}");
    /* the decoded text: printf 'caf\xc3\xa9' | sha256sum */
    expect("{\"rules\":[{\"action\":\"hash\",\"key\":\"h\"}]}",
           "{\"h\":\"caf\\u00e9\"}",
           "{\"h\":\"hash:850f7dc43910ff890f8879c0ed26fe697c93a067ad93a7d50f46"
           "6a7028a9bf4e\"}");
}

Test(hashing, other_values_hash_their_rfc8785_text) {
    /* printf '{"a":2,"b":1}' | sha256sum, whatever the input order */
    const char *pol = "{\"rules\":[{\"action\":\"hash\",\"key\":\"h\"}]}";
    /* sha256('{"a":2,"b":1}') */
    expect(pol, "{\"h\":{\"b\":1,\"a\":2}}",
           "{\"h\":\"hash:d3626ac30a87e6f7a6428233b3c68299976865fa5508e4267c54"
           "15c76af7a772\"}");
    expect(pol, "{\"h\":{\"a\":2.0,\"b\":1e0}}",
           "{\"h\":\"hash:d3626ac30a87e6f7a6428233b3c68299976865fa5508e4267c54"
           "15c76af7a772\"}");
    /* printf '1' | sha256sum (1.0 is 1 in RFC 8785) */
    expect(pol, "{\"h\":1.0}",
           "{\"h\":\"hash:6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e"
           "52ddb7875b4b\"}");
    /* printf 'true' | sha256sum; printf 'null' | sha256sum */
    expect(pol, "{\"h\":true}",
           "{\"h\":\"hash:b5bea41b6c623f7c09f1bf24dcae58ebab3c0cdd90ad966bc43a"
           "45b44867e12b\"}");
    expect(pol, "{\"h\":null}",
           "{\"h\":\"hash:74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c01"
           "9892f982b90b\"}");
}

Test(hashing, hmac_with_a_key) {
    sl_redact_rule rule = {0};
    rule.action = SL_REDACT_HASH;
    rule.key = (sl_str){"email", 5};
    sl_redact_spec spec = {0};
    spec.rules = &rule;
    spec.n_rules = 1;
    /* RFC 4231 test case 2: key "Jefe", data "what do ya want for
     * nothing?" */
    spec.hash_key = (const uint8_t *)"Jefe";
    spec.hash_key_len = 4;
    sl_redactor *r = NULL;
    cr_assert_eq(sl_redactor_compile(&spec, &r, NULL), SL_OK);
    cr_expect(sl_redactor_keyed(r));
    char *got = run(r, "{\"email\":\"what do ya want for nothing?\"}", NULL);
    cr_expect_str_eq(got, "{\"email\":\"hmac:5bdcc146bf60754e6a042426089575c7"
                          "5a003f089d2739839dec58b964ec3843\"}");
    free(got);
    sl_redactor_free(r);
}

Test(hashing, hash_key_from_env_and_file) {
    setenv("SL_TEST_HASH_KEY", "Jefe", 1);
    sl_redactor *r = policy("{\"hash_key_env\":\"SL_TEST_HASH_KEY\",\"rules\":"
                            "[{\"action\":\"hash\",\"key\":\"e\"}]}");
    char *got = run(r, "{\"e\":\"what do ya want for nothing?\"}", NULL);
    cr_expect_str_eq(got, "{\"e\":\"hmac:5bdcc146bf60754e6a042426089575c7"
                          "5a003f089d2739839dec58b964ec3843\"}");
    free(got);
    sl_redactor_free(r);
    char dir[] = "/tmp/sl_redact_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/k", dir);
    FILE *f = fopen(path, "w");
    fputs("Jefe\n", f);
    fclose(f);
    sl_doc *doc = parse("{\"hash_key_file\":\"k\",\"rules\":[{\"action\":"
                        "\"hash\",\"key\":\"e\"}]}",
                        "p.json");
    sl_error err = {0};
    cr_assert_eq(sl_redactor_load_doc(doc, dir, &r, &err), SL_OK, "%s",
                 err.msg);
    got = run(r, "{\"e\":\"what do ya want for nothing?\"}", NULL);
    cr_expect_str_eq(got, "{\"e\":\"hmac:5bdcc146bf60754e6a042426089575c7"
                          "5a003f089d2739839dec58b964ec3843\"}");
    free(got);
    sl_redactor_free(r);
    sl_doc_free(doc);
    remove(path);
    rmdir(dir);
}

/* ---- audit ---- */

Test(audit, counts_and_paths_never_values) {
    sl_redactor *r = policy("{\"rules\":[{\"action\":\"mask\",\"key\":\"pw\"},"
                            "{\"action\":\"hash\",\"key\":\"mail\"},{"
                            "\"action\":\"drop\",\"path\":\"**.debug\"}]}");
    char *audit = NULL;
    char *got = run(r,
                    "{\"u\":{\"pw\":\"hunter2\",\"mail\":\"a@b\"},\"x.y\":{"
                    "\"debug\":\"d\"},\"l\":[{\"pw\":1}]}",
                    &audit);
    cr_expect_str_eq(
        audit, "{\"mask\":2,\"hash\":1,\"drop\":1,\"detect\":0,\"fields\":["
               "{\"action\":\"mask\",\"path\":\"u.pw\",\"rule\":0},"
               "{\"action\":\"hash\",\"path\":\"u.mail\",\"rule\":1},"
               "{\"action\":\"drop\",\"path\":\"x\\\\.y.debug\",\"rule\":2},"
               "{\"action\":\"mask\",\"path\":\"l.pw\",\"rule\":0}]}");
    cr_expect_null(strstr(audit, "hunter2"));
    free(got);
    free(audit);
    sl_redactor_free(r);
}

Test(audit, counts_are_returned) {
    sl_redactor *r = policy(NULL);
    sl_doc *doc = parse("{\"token\":1,\"a\":[{\"password\":2}]}", "in.json");
    sl_redact_ctx *ctx = NULL;
    cr_assert_eq(sl_redact_ctx_new(r, &ctx, NULL), SL_OK);
    sl_buf out = {0};
    sl_redact_counts c = {0};
    cr_assert_eq(sl_redact_write(ctx, sl_doc_root(doc), &out, NULL, &c, NULL),
                 SL_OK);
    cr_expect_eq(c.masked, 2);
    cr_expect_eq(c.hashed, 0);
    cr_expect_eq(c.dropped, 0);
    sl_buf_free(&out);
    sl_redact_ctx_free(ctx);
    sl_doc_free(doc);
    sl_redactor_free(r);
}

/* ---- detectors ---- */

Test(detect, masks_only_the_span) {
    sl_redactor *r = policy("{\"detect\":[\"all\"]}");
    char *audit = NULL;
    char *got = run(
        r,
        "{\"msg\":\"key AKIAIOSFODNN7EXAMPLE used\",\"h\":[\"Authorization: "
        "Bearer abcdefgh12345678.x\"],\"gh\":\"ghp_"
        "abcdefghijklmnopqrstuvwxyz0123456789AB end\",\"ok\":\"nothing here\"}",
        &audit);
    cr_expect_str_eq(got, "{\"msg\":\"key [REDACTED] used\",\"h\":["
                          "\"Authorization: Bearer [REDACTED]\"],\"gh\":"
                          "\"[REDACTED] end\",\"ok\":\"nothing here\"}");
    cr_expect_not_null(strstr(audit, "\"detect\":3"), "%s", audit);
    cr_expect_not_null(strstr(audit, "\"detector\":\"aws_access_key\""));
    free(got);
    free(audit);
    sl_redactor_free(r);
}

Test(detect, jwt_pem_slack_openai) {
    sl_redactor *r = policy("{\"detect\":[\"jwt\",\"private_key\","
                            "\"slack_token\",\"openai_key\"]}");
    char *got =
        run(r,
            "{\"a\":\"t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_x; ok\","
            "\"k\":\"x\\n-----BEGIN RSA PRIVATE KEY-----\\nMIIEpAIBAAKCAQEA"
            "3Tz2mr7SZiAMfQyuvBjM9OiZ1BjP5CE/Wm/Rr500P\\n-----END RSA "
            "PRIVATE KEY-----\\ny\",\"s\":\"xoxb-1234567890-abcdefghij\","
            "\"o\":\"sk-proj-abcdefghijklmnopqrstuvwxyzAB0123456789\"}",
            NULL);
    cr_expect_str_eq(got, "{\"a\":\"t=[REDACTED]; ok\",\"k\":\"x\\n[REDACTED]"
                          "\\ny\",\"s\":\"[REDACTED]\",\"o\":\"[REDACTED]\"}");
    free(got);
    sl_redactor_free(r);
}

Test(detect, on_in_the_default_policy_and_off_with_an_empty_list) {
    expect(NULL, "{\"m\":\"key AKIAIOSFODNN7EXAMPLE\"}",
           "{\"m\":\"key [REDACTED]\"}");
    expect("{\"extends\":\"default\"}", "{\"m\":\"key AKIAIOSFODNN7EXAMPLE\"}",
           "{\"m\":\"key [REDACTED]\"}");
    expect("{\"extends\":\"default\",\"detect\":[]}",
           "{\"m\":\"key AKIAIOSFODNN7EXAMPLE\"}",
           "{\"m\":\"key AKIAIOSFODNN7EXAMPLE\"}");
    expect("{\"extends\":\"default\",\"detect\":[\"jwt\"]}",
           "{\"m\":\"key AKIAIOSFODNN7EXAMPLE\"}",
           "{\"m\":\"key AKIAIOSFODNN7EXAMPLE\"}");
    expect("{\"rules\":[{\"action\":\"mask\",\"key\":\"x\"}]}",
           "{\"m\":\"key AKIAIOSFODNN7EXAMPLE\"}",
           "{\"m\":\"key AKIAIOSFODNN7EXAMPLE\"}");
}

/* ---- policy files ---- */

static void load_error(const char *json, sl_status code, uint32_t line,
                       uint32_t col, const char *msg) {
    sl_doc *doc = parse(json, "p.json");
    sl_redactor *r = NULL;
    sl_error err = {0};
    sl_status rc = sl_redactor_load_doc(doc, NULL, &r, &err);
    cr_expect_eq(rc, code, "%s: got %d (%s)", json, rc, err.msg);
    cr_expect_null(r);
    cr_expect_eq(err.line, line, "%s: line %u", json, err.line);
    cr_expect_eq(err.col, col, "%s: col %u", json, err.col);
    cr_expect_str_eq(err.msg, msg, "%s", json);
    cr_expect_str_eq(err.file, "p.json");
    sl_redactor_free(r);
    sl_doc_free(doc);
}

Test(policy_file, errors_have_line_col_and_rule_index) {
    load_error("{\"rules\":[\n {\"action\":\"mask\",\"key\":\"a\"},\n "
               "{\"action\":\"mask\",\"key\":\"b\"},\n {\"action\":"
               "\"scramble\",\"key\":\"c\"}]}",
               SL_ESCHEMA, 4, 12, "rules[2]: unknown action \"scramble\"");
    load_error("{\"rules\":[{\"action\":\"mask\"}]}", SL_ESCHEMA, 1, 11,
               "rules[0]: a rule needs a key or a path");
    load_error("{\"rules\":[{\"key\":\"x\"}]}", SL_ESCHEMA, 1, 11,
               "rules[0]: missing action");
    load_error("{\"rules\":[{\"action\":\"mask\",\"key\":\"\"}]}", SL_EPATTERN,
               1, 34, "rules[0]: empty key pattern");
    load_error("{\"rules\":[{\"action\":\"mask\",\"key\":\"x\",\"keys\":1}]}",
               SL_ESCHEMA, 1, 38, "rules[0]: unknown key \"keys\"");
    load_error("{\"safe_key\":[\"a\"]}", SL_ESCHEMA, 1, 2,
               "unknown key \"safe_key\"");
    load_error("{\"rules\":{}}", SL_ESCHEMA, 1, 10, "rules must be an array");
    load_error("[]", SL_ESCHEMA, 1, 1, "a policy must be an object");
    load_error("{\"extends\":\"strict\"}", SL_ESCHEMA, 1, 12,
               "extends \"strict\": only \"default\" exists");
    load_error("{\"detect\":[\"jwt\",\"dna\"]}", SL_ESCHEMA, 1, 18,
               "detect[1]: unknown detector \"dna\"");
    load_error("{\"rules\":[{\"action\":\"mask\",\"path\":\"a..b\"}]}",
               SL_EPATTERN, 1, 35,
               "rules[0]: path \"a..b\" has an empty "
               "segment");
    load_error("{\"rules\":[{\"action\":1,\"key\":\"a\"}]}", SL_ESCHEMA, 1, 21,
               "rules[0]: action must be a string, not integer");
    load_error("{\"hash_key_env\":\"SL_SURELY_UNSET_VAR\"}", SL_ESCHEMA, 1, 17,
               "hash_key_env \"SL_SURELY_UNSET_VAR\" is not set");
}

Test(policy_file, bad_regex_names_the_rule) {
    sl_doc *doc = parse("{\"rules\":[{\"action\":\"mask\",\"key\":\"a\"},"
                        "{\"action\":\"mask\",\"key\":\"regex:(\"}]}",
                        "p.json");
    sl_redactor *r = NULL;
    sl_error err = {0};
    cr_expect_eq(sl_redactor_load_doc(doc, NULL, &r, &err), SL_EPATTERN);
    cr_expect_eq(strncmp(err.msg, "rules[1]: ", 10), 0, "%s", err.msg);
    cr_expect_eq(err.line, 1);
    sl_doc_free(doc);
}

/* ---- allocation failure ---- */

static long fail_at;
static long calls;

static void *oom_alloc(void *ctx, size_t n) {
    (void)ctx;
    return ++calls == fail_at ? NULL : malloc(n);
}

static void *oom_realloc(void *ctx, void *p, size_t o, size_t n) {
    (void)ctx;
    (void)o;
    return ++calls == fail_at ? NULL : realloc(p, n);
}

static void oom_free(void *ctx, void *p, size_t n) {
    (void)ctx;
    (void)n;
    free(p);
}

Test(oom, every_allocation_failure_is_reported) {
    static const sl_allocator a = {oom_alloc, oom_realloc, oom_free, NULL};
    const char *pol =
        "{\"extends\":\"default\",\"rules\":[{\"action\":\"hash\","
        "\"key\":\"h\",\"path\":\"**.h\"}],\"safe_keys\":[\"x\"]}";
    const char *in = "{\"h\":{\"b\":1},\"token\":2,\"l\":[{\"q\":3}]}";
    for (fail_at = 1;; fail_at++) {
        calls = 0;
        sl_set_allocator(&a);
        sl_status rc = SL_OK;
        sl_doc *pdoc = sl_doc_new();
        sl_doc *idoc = sl_doc_new();
        sl_redactor *r = NULL;
        sl_redact_ctx *ctx = NULL;
        sl_buf out = {0}, audit = {0};
        if (!pdoc || !idoc) {
            rc = SL_ENOMEM;
        }
        if (rc == SL_OK) {
            rc = sl_doc_load(pdoc, pol, strlen(pol), SL_FORMAT_JSON, "p", NULL,
                             NULL);
        }
        if (rc == SL_OK) {
            rc = sl_doc_load(idoc, in, strlen(in), SL_FORMAT_JSON, "i", NULL,
                             NULL);
        }
        if (rc == SL_OK) {
            rc = sl_redactor_load_doc(pdoc, NULL, &r, NULL);
        }
        if (rc == SL_OK) {
            rc = sl_redact_ctx_new(r, &ctx, NULL);
        }
        if (rc == SL_OK) {
            rc = sl_redact_write(ctx, sl_doc_root(idoc), &out, &audit, NULL,
                                 NULL);
        }
        sl_buf_free(&out);
        sl_buf_free(&audit);
        sl_redact_ctx_free(ctx);
        sl_redactor_free(r);
        sl_doc_free(pdoc);
        sl_doc_free(idoc);
        sl_set_allocator(NULL);
        if (rc == SL_OK) {
            break;
        }
        cr_assert_eq(rc, SL_ENOMEM, "allocation %ld: status %d", fail_at, rc);
        cr_assert_lt(fail_at, 10000);
    }
}

/* ---- depth and other syntaxes ---- */

Test(rules, double_star_reaches_deep_keys) {
    sl_redactor *r = policy("{\"rules\":[{\"action\":\"mask\",\"path\":"
                            "\"**.pw\"}]}");
    sl_buf in = {0};
    for (int i = 0; i < 700; i++) {
        sl_buf_append(&in, "{\"a\":", 5);
    }
    sl_buf_append(&in, "{\"pw\":1}", 8);
    for (int i = 0; i < 700; i++) {
        sl_buf_append(&in, "}", 1);
    }
    sl_doc *doc = sl_doc_new();
    sl_doc_opts o = {0};
    o.max_depth = 2000;
    cr_assert_eq(
        sl_doc_load(doc, in.ptr, in.len, SL_FORMAT_JSON, "d", &o, NULL), SL_OK);
    sl_redact_ctx *ctx = NULL;
    cr_assert_eq(sl_redact_ctx_new(r, &ctx, NULL), SL_OK);
    sl_buf out = {0};
    sl_error err = {0};
    cr_assert_eq(sl_redact_write(ctx, sl_doc_root(doc), &out, NULL, NULL, &err),
                 SL_OK, "%s", err.msg);
    cr_expect_not_null(strstr(out.ptr, "{\"pw\":\"[REDACTED]\"}"));
    cr_expect_eq(out.len, in.len + 11);
    sl_buf_free(&in);
    sl_buf_free(&out);
    sl_redact_ctx_free(ctx);
    sl_doc_free(doc);
    sl_redactor_free(r);
}

static sl_redactor *policy_fmt(const char *text, sl_format fmt, sl_error *err) {
    sl_doc *doc = sl_doc_new();
    sl_redactor *r = NULL;
    sl_status rc =
        sl_doc_load(doc, text, strlen(text), fmt, "p.conf", NULL, err);
    if (rc == SL_OK) {
        sl_redactor_load_doc(doc, NULL, &r, err);
    }
    sl_doc_free(doc);
    return r;
}

Test(policy_file, toml_and_yaml_policies) {
    sl_error err = {0};
    sl_redactor *r = policy_fmt("extends = \"default\"\n"
                                "safe_keys = [\"session\"]\n"
                                "[[rules]]\naction = \"drop\"\n"
                                "path = \"**.debug\"\n",
                                SL_FORMAT_TOML, &err);
    cr_assert_not_null(r, "%u:%u: %s", err.line, err.col, err.msg);
    char *got = run(r, "{\"session\":1,\"x\":{\"debug\":2},\"token\":3}", NULL);
    cr_expect_str_eq(got, "{\"session\":1,\"x\":{},\"token\":\"[REDACTED]\"}");
    free(got);
    sl_redactor_free(r);
    r = policy_fmt("rules:\n  - action: hash\n    key: \"literal:id\"\n",
                   SL_FORMAT_YAML, &err);
    cr_assert_not_null(r, "%u:%u: %s", err.line, err.col, err.msg);
    got = run(r, "{\"ID\":\"abc\",\"idx\":1}", NULL);
    cr_expect_str_eq(got, "{\"ID\":\"hash:ba7816bf8f01cfea414140de5dae2223b00"
                          "361a396177a9cb410ff61f20015ad\",\"idx\":1}");
    free(got);
    sl_redactor_free(r);
    err = (sl_error){0};
    r = policy_fmt("[[rules]]\naction = \"mask\"\nkey = \"a\"\n\n[[rules]]\n"
                   "action = \"scramble\"\nkey = \"b\"\n",
                   SL_FORMAT_TOML, &err);
    cr_expect_null(r);
    cr_expect_eq(err.code, SL_ESCHEMA);
    cr_expect_eq(err.line, 6, "%u: %s", err.line, err.msg);
    cr_expect_str_eq(err.msg, "rules[1]: unknown action \"scramble\"");
}

/* ---- threads ---- */

typedef struct job {
    const sl_redactor *r;
    const sl_node *root;
    char *out;
} job;

static void *redact_many(void *arg) {
    job *j = arg;
    sl_redact_ctx *ctx = NULL;
    if (sl_redact_ctx_new(j->r, &ctx, NULL) != SL_OK) {
        return NULL;
    }
    sl_buf out = {0};
    for (int i = 0; i < 200; i++) {
        out.len = 0;
        if (sl_redact_write(ctx, j->root, &out, NULL, NULL, NULL) != SL_OK) {
            break;
        }
    }
    j->out = strdup(out.ptr ? out.ptr : "");
    sl_buf_free(&out);
    sl_redact_ctx_free(ctx);
    return NULL;
}

Test(threads, one_redactor_many_contexts) {
    sl_redactor *r = policy("{\"extends\":\"default\",\"detect\":[\"all\"],"
                            "\"rules\":[{\"action\":\"hash\",\"key\":"
                            "\"regex:^h\"}]}");
    sl_doc *doc = parse("{\"h1\":{\"b\":1},\"apiKey\":\"x\",\"m\":\"key "
                        "AKIAIOSFODNN7EXAMPLE\",\"l\":[{\"token\":1}]}",
                        "in.json");
    job jobs[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){r, sl_doc_root(doc), NULL};
        cr_assert_eq(pthread_create(&t[i], NULL, redact_many, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        cr_assert_not_null(jobs[i].out);
        cr_expect_str_eq(jobs[i].out, jobs[0].out);
    }
    cr_expect_not_null(strstr(jobs[0].out, "\"m\":\"key [REDACTED]\""));
    for (int i = 0; i < 4; i++) {
        free(jobs[i].out);
    }
    sl_doc_free(doc);
    sl_redactor_free(r);
}
