/* tests/redact/test_detect.c: the default policy's value detectors up
 * close: what each masks (only the credential after Bearer, only a
 * connection string's password, a PEM block whole), near misses that must
 * stay (UUIDs, hashes, base64, prose, documentation placeholders, tokens
 * glued to other words), escapes of JSON-escaped text, per-detector audit
 * counts, idempotence, detector names, and turning them off. Recall and
 * false positives at scale: tests/redact/detectors.py. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/sluice.h>

static char *redact_with(const sl_redactor *r, const char *json, char **audit) {
    sl_doc *doc = sl_doc_new();
    cr_assert_not_null(doc);
    sl_error err = {0};
    cr_assert_eq(
        sl_doc_load(doc, json, strlen(json), SL_FORMAT_JSON, "in", NULL, &err),
        SL_OK, "%s: %s", json, err.msg);
    sl_redact_ctx *ctx = NULL;
    cr_assert_eq(sl_redact_ctx_new(r, &ctx, &err), SL_OK);
    sl_buf out = {0}, ab = {0};
    cr_assert_eq(sl_redact_write(ctx, sl_doc_root(doc), &out,
                                 audit ? &ab : NULL, NULL, &err),
                 SL_OK, "%s", err.msg);
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

static char *redact(const char *json, char **audit) {
    sl_redactor *r = NULL;
    sl_error err = {0};
    cr_assert_eq(sl_redactor_default(&r, &err), SL_OK, "%s", err.msg);
    char *got = redact_with(r, json, audit);
    sl_redactor_free(r);
    return got;
}

/* {"m": text} redacted by the default policy gives {"m": want}. */
static void expect_text(const char *text, const char *want) {
    char in[4096], exp[4096];
    snprintf(in, sizeof(in), "{\"m\":\"%s\"}", text);
    snprintf(exp, sizeof(exp), "{\"m\":\"%s\"}", want);
    char *got = redact(in, NULL);
    cr_expect_str_eq(got, exp, "input %s", in);
    free(got);
}

static void expect_kept(const char *text) {
    expect_text(text, text);
}

Test(detect, masks_only_the_credential) {
    expect_text("curl -H 'Authorization: Bearer abcDEF0123456789xyz' x",
                "curl -H 'Authorization: Bearer [REDACTED]' x");
    expect_text("Authorization: Basic dXNlcjpwYXNzd29yZA==",
                "Authorization: Basic [REDACTED]");
    expect_text("dsn postgres://app:s3cretPw9@db:5432/prod ok",
                "dsn postgres://app:[REDACTED]@db:5432/prod ok");
    expect_text("redis://:hunter22x@cache:6379",
                "redis://:[REDACTED]@cache:6379");
    expect_text("conn=DefaultEndpointsProtocol=https;AccountName=a;AccountKey="
                "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cX"
                "V4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4ZmE==;x",
                "conn=DefaultEndpointsProtocol=https;AccountName=a;AccountKey="
                "[REDACTED];x");
}

Test(detect, masks_tokens_next_to_punctuation) {
    expect_text("(AKIAIOSFODNN7EXAMPLE)", "([REDACTED])");
    expect_text("key=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789.",
                "key=[REDACTED].");
    expect_text("'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z'", "'[REDACTED]'");
    expect_text("[glpat-Ab3dEf6hIj9kLm2nOp5q]", "[[REDACTED]]");
    expect_text("t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl; ok",
                "t=[REDACTED]; ok");
}

Test(detect, sees_through_escapes_of_json_escaped_text) {
    /* the detectors see decoded strings: a literal \n or \u0022 before a
     * token is an escape of embedded JSON, not a letter glued to it */
    expect_text("line\\\\nAKIAIOSFODNN7EXAMPLE\\\\nnext",
                "line\\\\n[REDACTED]\\\\nnext");
    expect_text("q\\\\u0022AKIAIOSFODNN7EXAMPLE\\\\u0022",
                "q\\\\u0022[REDACTED]\\\\u0022");
    expect_text("{\\\"k\\\":\\\"sk_live_Ab3dEf6hIj9kLm2nOp5qRs8t\\\"}",
                "{\\\"k\\\":\\\"[REDACTED]\\\"}");
    /* a raw JSON \u escape inside the credential itself is decoded first */
    expect_text("key AKIA\\u0049OSFODNN7EXAMPLE", "key [REDACTED]");
    expect_text("https:\\\\/\\\\/bot:Pa55word9@git.example.com",
                "https:\\\\/\\\\/bot:[REDACTED]@git.example.com");
}

Test(detect, keeps_ids_hashes_and_encodings) {
    expect_kept("123e4567-e89b-12d3-a456-426614174000");
    expect_kept("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect_kept(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect_kept(
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
    expect_kept(
        "aGVsbG8gd29ybGQsIHRoaXMgaXMgYSBiYXNlNjQgcGF5bG9hZCBvZiB0ZXh0IQ==");
    expect_kept("eyJhbGciOiJIUzI1NiJ9 is only a header");
    expect_kept("/home/user/src/app/models/tokenizer_config.json");
}

Test(detect, keeps_prose_and_near_misses) {
    expect_kept("the bearer of these documents is authorized");
    expect_kept("pip install sk-learn-for-classification-of-documents");
    expect_kept("task-abcdefghijklmnopqrstuvwxyz0123456789ABCDEF");
    expect_kept("Authorization: Basic realm"); /* not base64 of a:b */
    expect_kept("Authorization: Basic aGVsbG8gd29ybGQ="); /* "hello world" */
    expect_kept("XAKIAIOSFODNN7EXAMPLE");   /* glued to a letter */
    expect_kept("AKIAIOSFODNN7EXAMPLEabc"); /* goes on */
    expect_kept("my_ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789");
    expect_kept("ghp_short");
    expect_kept("http://user:password@example.com/"); /* placeholder */
    expect_kept("postgres://u:${DB_PASSWORD}@db/x");
    expect_kept("ssh://git@github.com:org/repo.git");
    expect_kept("cvs://:pserver:anoncvs@sources.redhat.com:/cvs/src");
    expect_kept("-----BEGIN RSA PRIVATE KEY-----\\n...\\n-----END RSA "
                "PRIVATE KEY-----");
}

Test(detect, masks_a_pem_block_whole) {
    expect_text(
        "k: -----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAA"
        "ABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\\n-----END "
        "OPENSSH PRIVATE KEY-----\\nbye",
        "k: [REDACTED]\\nbye");
}

Test(detect, counts_per_detector_in_the_audit) {
    char *audit = NULL;
    char *got =
        redact("{\"a\":\"AKIAIOSFODNN7EXAMPLE and ASIAQXJKRKAEHVBFRNYZ\","
               "\"b\":[\"xoxb-123456789012-1234567890123-AbCdEfGhIj\"]}",
               &audit);
    cr_expect_str_eq(got, "{\"a\":\"[REDACTED] and [REDACTED]\",\"b\":["
                          "\"[REDACTED]\"]}");
    cr_expect_not_null(strstr(audit, "\"detect\":3,\"detectors\":{"
                                     "\"aws_access_key\":2,\"slack_token\":1},"
                                     "\"fields\":["),
                       "%s", audit);
    free(got);
    free(audit);
}

Test(detect, masking_twice_changes_nothing) {
    const char *in =
        "{\"m\":\"x AKIAIOSFODNN7EXAMPLE postgres://a:b0b0b0@h/ Bearer "
        "abcDEF0123456789xyz sk_live_Ab3dEf6hIj9kLm2nOp5qRs8t\"}";
    char *once = redact(in, NULL);
    char *twice = redact(once, NULL);
    cr_expect_str_eq(twice, once);
    cr_expect_null(strstr(once, "AKIA"));
    free(once);
    free(twice);
}

Test(detect, names_of_detector_bits) {
    cr_expect_str_eq(sl_redact_detector_name(SL_DETECT_JWT), "jwt");
    cr_expect_str_eq(sl_redact_detector_name(SL_DETECT_AZURE_STORAGE),
                     "azure_storage_key");
    cr_expect_null(sl_redact_detector_name(0));
    cr_expect_null(sl_redact_detector_name(SL_DETECT_JWT | SL_DETECT_NPM));
    cr_expect_null(sl_redact_detector_name(1u << SL_DETECT_COUNT));
    for (unsigned i = 0; i < SL_DETECT_COUNT; i++) {
        cr_expect_not_null(sl_redact_detector_name(1u << i));
    }
}

Test(detect, off_with_detect_exact_and_no_bits) {
    sl_redact_spec spec = {0};
    spec.extends_default = true;
    spec.detect_exact = true;
    sl_redactor *r = NULL;
    cr_assert_eq(sl_redactor_compile(&spec, &r, NULL), SL_OK);
    char *got =
        redact_with(r, "{\"m\":\"AKIAIOSFODNN7EXAMPLE\",\"token\":1}", NULL);
    cr_expect_str_eq(got, "{\"m\":\"AKIAIOSFODNN7EXAMPLE\",\"token\":"
                          "\"[REDACTED]\"}");
    free(got);
    sl_redactor_free(r);
}

Test(detect, a_mask_that_ends_a_rejected_token_is_rescanned) {
    /* the Basic credential runs on into the JWT after '=' and is rejected;
     * once the JWT is masked it ends at "[": the string is scanned again
     * so that redacting the output changes nothing (found by fuzz_redact) */
    const char *in =
        "{\"h\":\"Authorization: Basic dXNlcjp66666666t=eyJhbGciOiJ"
        "IUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln; ok\"}";
    char *audit = NULL;
    char *once = redact(in, &audit);
    char *twice = redact(once, NULL);
    cr_expect_str_eq(twice, once);
    cr_expect_str_eq(once,
                     "{\"h\":\"Authorization: Basic [REDACTED][REDACTED]; "
                     "ok\"}");
    cr_expect_not_null(strstr(audit, "\"jwt\":1,\"basic_auth\":1"), "%s",
                       audit);
    free(once);
    free(twice);
    free(audit);
}
