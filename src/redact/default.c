/* src/redact/default.c: the default SAFE policy as data. Owns its terms and
 * safe keys; compile.c turns each term into a whole-word mask rule (see
 * words.c for what "whole word" means).
 *
 * The terms are the spec's secrets and credential headers plus the issue's
 * additions (passwd, passphrase, bearer, client_secret, jwt), and a few
 * forms that whole-word matching would otherwise miss: the singular
 * `credential`, plurals of words that are never counts (`secrets`,
 * `passwords`, `cookies`), and multi-word names whose concatenation is
 * common in the wild (`session_id` -> `sessionid`, `csrf_token` ->
 * `csrftoken`, `secret_key`, `auth_token`). `key` and `tokens` are
 * deliberately absent: they would mask `sort_key` and `max_tokens`. */
#include <sluice/redact.h>

#include "redact/private.h"

const char *const sl__redact_default_terms[] = {
    "api_key",       "apikey",        "token",       "secret",
    "password",      "passwd",        "passphrase",  "access_token",
    "refresh_token", "private_key",   "credentials", "credential",
    "auth",          "authorization", "session",     "csrf",
    "cookie",        "set-cookie",    "bearer",      "client_secret",
    "jwt",           "secrets",       "passwords",   "cookies",
    "session_id",    "csrf_token",    "secret_key",  "auth_token",
};
const size_t sl__redact_default_n_terms =
    SL_ARRAY_LEN(sl__redact_default_terms);

const char *const sl__redact_default_safe[] = {
    "run_id",     "event_id", "step_id", "timestamp",  "created_at",
    "started_at", "ended_at", "status",  "duration",   "type",
    "name",       "tool",     "model",   "entrypoint",
};
const size_t sl__redact_default_n_safe = SL_ARRAY_LEN(sl__redact_default_safe);
