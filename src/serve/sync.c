/* src/serve/sync.c: the policy sync client (sync.h). Encodes the
 * SyncRequest as proto-JSON (camelCase, int64 as strings, enums by name),
 * posts it through the --forward client (forward.c) or calls
 * PolicyService/Sync through the gRPC client (grpc_client.c), reads the
 * SyncResponse into a document tree and compiles its "policies" with the
 * policy loader, like a policy file. Protobuf (HTTP with proto, gRPC) is
 * converted at the edge (sync_schema.c): the request's proto-JSON to
 * protobuf, the answer's protobuf to proto-JSON, so one path reads both.
 * Compile errors are reported per policy id with the loader's message after
 * `policy <id>: ` (`log: match[0]: invalid regex
 * "<pat>": <msg>`), as policy-rs reports them. */
#include "serve/sync.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "serve/forward.h"
#include "serve/grpc_client.h"
#include "serve/sync_schema.h"

static const char grpc_scheme[] = "grpc://", grpcs_scheme[] = "grpcs://";
static const char sync_path[] = "/tero.policy.v1.PolicyService/Sync";

typedef struct base_ent {
    char *id;
    size_t len;
    uint64_t hits, misses;
    sl_policy_stage_stats stages;
} base_ent;

struct sl__sync {
    sl__serve_forward *http;
    sl__grpc_client *grpc;
    bool proto; /* protobuf bodies (always with gRPC) */
    char instance[160];
    bool have;         /* an answer was compiled */
    sl_buf hash;       /* hash of the last answer taken */
    sl_doc *doc;       /* its policies */
    uint32_t interval; /* its recommended_sync_interval_seconds */
    sl_buf errs;       /* pre-encoded statuses of rejected policies */
    base_ent *base;    /* what was last reported, in id order */
    size_t nbase;
};

sl__sync *sl__sync_new(const char *url, const sl__serve_client_opts *co,
                       sl_error *err) {
    sl__sync *s = sl__calloc(1, sizeof(*s));
    if (!s) {
        sl__nomem(err);
        return NULL;
    }
    sl__serve_client_opts g = *co;
    g.tls = strncmp(url, grpcs_scheme, sizeof(grpcs_scheme) - 1) == 0;
    if (g.tls || strncmp(url, grpc_scheme, sizeof(grpc_scheme) - 1) == 0) {
        size_t skip = g.tls ? sizeof(grpcs_scheme) : sizeof(grpc_scheme);
        s->grpc = sl__grpc_client_new(url + skip - 1, &g, err);
        s->proto = true;
    } else {
        s->http = sl__serve_forward_new(url, co, err);
        s->proto = co->proto;
    }
    if (!s->http && !s->grpc) {
        sl__free(s, sizeof(*s));
        return NULL;
    }
    char host[128] = "localhost";
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    snprintf(s->instance, sizeof(s->instance), "%s-%ld", host, (long)getpid());
    return s;
}

static void base_free(base_ent *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        sl__free(b[i].id, b[i].len + 1);
    }
    if (b) {
        sl__free(b, n * sizeof(*b));
    }
}

void sl__sync_free(sl__sync *s) {
    if (s) {
        sl__serve_forward_free(s->http);
        sl__grpc_client_free(s->grpc);
        sl__buf_free(&s->hash);
        sl__buf_free(&s->errs);
        sl_doc_free(s->doc);
        base_free(s->base, s->nbase);
        sl__free(s, sizeof(*s));
    }
}

uint32_t sl__sync_interval(const sl__sync *s) {
    return s->interval;
}

static sl_status put_str(sl_buf *b, const char *p, size_t n) {
    return sl_json_write_string(b, p, n);
}

static sl_status put_attr(sl_buf *b, const char *key, const char *val,
                          bool comma) {
    sl_status rc = sl__buf_printf(b, "%s{\"key\":", comma ? "," : "");
    rc = rc == SL_OK ? put_str(b, key, strlen(key)) : rc;
    rc = rc == SL_OK ? sl__buf_printf(b, ",\"value\":{\"stringValue\":") : rc;
    rc = rc == SL_OK ? put_str(b, val, strlen(val)) : rc;
    return rc == SL_OK ? sl__buf_printf(b, "}}") : rc;
}

/* The current counters of set, in id order (the set's order). */
static sl_status snapshot(const sl_policy_set *set, base_ent **out, size_t *n) {
    *out = NULL;
    *n = 0;
    size_t count = set ? sl_policy_count(set) : 0;
    if (count == 0) {
        return SL_OK;
    }
    base_ent *b = sl__calloc(count, sizeof(*b));
    if (!b) {
        return SL_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        const char *id = sl_policy_id(set, i);
        b[i].len = strlen(id);
        b[i].id = sl__calloc(1, b[i].len + 1);
        if (!b[i].id) {
            base_free(b, i);
            return SL_ENOMEM;
        }
        memcpy(b[i].id, id, b[i].len);
        sl_policy_stats st;
        sl_policy_stats_get(set, i, &st);
        b[i].hits = st.hits;
        b[i].misses = st.misses;
        sl_policy_stage_stats_get(set, i, &b[i].stages);
    }
    *out = b;
    *n = count;
    return SL_OK;
}

/* The last reported entry with cur's id (base is in id order). */
static const base_ent *base_find(const sl__sync *s, const base_ent *cur) {
    size_t lo = 0, hi = s->nbase;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->base[mid].id, cur->id);
        if (c == 0) {
            return &s->base[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* The request as proto-JSON; numeric: enums as numbers (the protobuf
 * tables know no enum names). */
/* cur - old, or all of cur when it is below old (the counter restarted:
 * the policy left a snapshot and came back, or was reset). */
static uint64_t delta(uint64_t cur, const uint64_t *old) {
    return old && cur >= *old ? cur - *old : cur;
}

/* The transform stages with something new since old, as
 * TransformStageStatus members. */
static sl_status put_stages(sl_buf *b, const base_ent *cur,
                            const base_ent *old) {
    static const char *const names[SL_STAGE_COUNT] = {"remove", "redact",
                                                      "rename", "add"};
    sl_status rc = SL_OK;
    for (int k = 0; k < SL_STAGE_COUNT && rc == SL_OK; k++) {
        uint64_t h =
            delta(cur->stages.hits[k], old ? &old->stages.hits[k] : NULL);
        uint64_t m =
            delta(cur->stages.misses[k], old ? &old->stages.misses[k] : NULL);
        if (h || m) {
            rc = sl__buf_printf(b,
                                ",\"%s\":{\"hits\":\"%llu\","
                                "\"misses\":\"%llu\"}",
                                names[k], (unsigned long long)h,
                                (unsigned long long)m);
        }
    }
    return rc;
}

static sl_status encode_request(const sl__sync *s, const base_ent *cur,
                                size_t ncur, bool numeric, sl_buf *b) {
    sl_status rc = sl__buf_printf(
        b,
        "{\"clientMetadata\":{\"supportedPolicyStages\":[%s],"
        "\"resourceAttributes\":[",
        numeric
            ? "1,2,3,4"
            : "\"POLICY_STAGE_LOG_FILTER\",\"POLICY_STAGE_LOG_TRANSFORM\","
              "\"POLICY_STAGE_METRIC_FILTER\",\"POLICY_STAGE_TRACE_SAMPLING\"");
    rc = rc == SL_OK ? put_attr(b, "service.name", "sluice", false) : rc;
    rc = rc == SL_OK ? put_attr(b, "service.namespace", "sluice", true) : rc;
    rc = rc == SL_OK ? put_attr(b, "service.version", SL_VERSION_STRING, true)
                     : rc;
    rc = rc == SL_OK ? put_attr(b, "service.instance.id", s->instance, true)
                     : rc;
    rc = rc == SL_OK ? sl__buf_printf(b, "]},\"fullSync\":%s",
                                      s->have ? "false" : "true")
                     : rc;
    if (rc == SL_OK && s->hash.len) {
        rc = sl__buf_printf(b, ",\"lastSuccessfulHash\":");
        rc = rc == SL_OK ? put_str(b, s->hash.ptr, s->hash.len) : rc;
    }
    rc = rc == SL_OK ? sl__buf_printf(b, ",\"policyStatuses\":[") : rc;
    bool first = true;
    for (size_t i = 0; i < ncur && rc == SL_OK; i++) {
        const base_ent *old = base_find(s, &cur[i]);
        uint64_t h = delta(cur[i].hits, old ? &old->hits : NULL);
        uint64_t m = delta(cur[i].misses, old ? &old->misses : NULL);
        rc = sl__buf_printf(b, "%s{\"id\":", first ? "" : ",");
        first = false;
        rc = rc == SL_OK ? put_str(b, cur[i].id, cur[i].len) : rc;
        rc = rc == SL_OK
                 ? sl__buf_printf(b,
                                  ",\"matchHits\":\"%llu\","
                                  "\"matchMisses\":\"%llu\"",
                                  (unsigned long long)h, (unsigned long long)m)
                 : rc;
        rc = rc == SL_OK ? put_stages(b, &cur[i], old) : rc;
        rc = rc == SL_OK ? sl__buf_putc(b, '}') : rc;
    }
    if (rc == SL_OK && s->errs.len) {
        rc = sl__buf_printf(b, "%s%.*s", first ? "" : ",", (int)s->errs.len,
                            s->errs.ptr);
    }
    return rc == SL_OK ? sl__buf_printf(b, "]}") : rc;
}

/* A string or number member (either spelling), as text. */
static const sl_node *member(const sl_node *root, const char *camel,
                             const char *snake) {
    const sl_node *n = sl_node_get(root, camel);
    return n ? n : sl_node_get(root, snake);
}

/* Statuses for the policies of the answer that the loader rejected: one
 * per id, its errors the problems' messages after `policy <id>: `. */
static sl_status encode_errors(const sl_node *list, const sl_policy_set *set,
                               sl_buf *b) {
    sl_status rc = SL_OK;
    for (size_t i = 0; i < sl_node_len(list) && rc == SL_OK; i++) {
        const sl_node *p = sl_node_at(list, i);
        const sl_node *idn =
            sl_node_kind_of(p) == SL_NODE_OBJECT ? sl_node_get(p, "id") : NULL;
        sl_str id = sl_node_str(idn);
        if (sl_node_kind_of(idn) != SL_NODE_STRING || id.len == 0 ||
            id.len > 64) {
            continue;
        }
        char want[80];
        int wl =
            snprintf(want, sizeof(want), "policy %.*s: ", (int)id.len, id.ptr);
        char key[72];
        memcpy(key, id.ptr, id.len);
        key[id.len] = '\0';
        if (sl_policy_find(set, key) != SIZE_MAX) {
            continue; /* compiled: its counters are reported instead */
        }
        bool open = false;
        for (size_t k = 0; k < sl_policy_problem_count(set) && rc == SL_OK;
             k++) {
            const char *msg = sl_policy_problem(set, k)->msg;
            if (strncmp(msg, want, (size_t)wl) != 0) {
                continue;
            }
            if (!open) {
                rc = sl__buf_printf(b, "%s{\"id\":", b->len ? "," : "");
                rc = rc == SL_OK ? put_str(b, id.ptr, id.len) : rc;
                rc = rc == SL_OK ? sl__buf_printf(b, ",\"matchHits\":\"0\","
                                                     "\"errors\":[")
                                 : rc;
                open = true;
            } else {
                rc = sl__buf_printf(b, ",");
            }
            rc = rc == SL_OK ? put_str(b, msg + wl, strlen(msg + wl)) : rc;
        }
        if (open && rc == SL_OK) {
            rc = sl__buf_printf(b, "]}");
        }
    }
    return rc;
}

/* Parse an answer; *doc (owned) is NULL when its hash is the one last
 * taken, else its policies as a policy document. */
static sl_status take_answer(sl__sync *s, const sl_buf *body, sl_doc **keep,
                             uint32_t *interval, sl_buf *hash, sl_error *err) {
    *keep = NULL;
    sl_doc *doc = sl_doc_new();
    if (!doc) {
        return sl__nomem(err);
    }
    sl_status rc = sl_doc_load(doc, body->ptr ? body->ptr : "", body->len,
                               SL_FORMAT_JSON, "SyncResponse", NULL, err);
    sl_node *root = (sl_node *)sl_doc_root(doc);
    if (rc == SL_OK && sl_node_kind_of(root) != SL_NODE_OBJECT) {
        rc = sl__error(err, SL_ESCHEMA, NULL,
                       "the SyncResponse is not a JSON object");
    }
    const sl_node *n = NULL;
    if (rc == SL_OK &&
        (n = member(root, "errorMessage", "error_message")) != NULL &&
        sl_node_str(n).len > 0) {
        rc = sl__error(
            err, SL_EIO, NULL, "policy provider: %.*s",
            (int)(sl_node_str(n).len > 200 ? 200 : sl_node_str(n).len),
            sl_node_str(n).ptr);
    }
    if (rc == SL_OK &&
        (n = member(root, "recommendedSyncIntervalSeconds",
                    "recommended_sync_interval_seconds")) != NULL) {
        int64_t v = 0;
        sl_str t = sl_node_str(n);
        if (sl_node_kind_of(n) == SL_NODE_STRING) {
            for (size_t i = 0; i < t.len && t.ptr[i] >= '0' && t.ptr[i] <= '9';
                 i++) {
                v = v * 10 + (t.ptr[i] - '0');
                if (v > UINT32_MAX) {
                    break;
                }
            }
        } else if (sl_node_int(n, &v) != SL_OK) {
            v = 0;
        }
        *interval = v < 0 || v > UINT32_MAX ? 0 : (uint32_t)v;
    }
    if (rc == SL_OK && (n = sl_node_get(root, "hash")) != NULL) {
        rc = sl__buf_append(hash, sl_node_str(n).ptr, sl_node_str(n).len);
    }
    if (rc == SL_OK && (n = sl_node_get(root, "policies")) != NULL &&
        sl_node_kind_of(n) != SL_NODE_ARRAY) {
        sl_pos pos = sl_node_pos(doc, n);
        rc = sl__error(err, SL_ESCHEMA, &pos, "\"policies\" is not an array");
    }
    /* without a hash nothing tells the policies are the same: take them */
    bool same = s->doc && hash->len > 0 && hash->len == s->hash.len &&
                memcmp(hash->ptr, s->hash.ptr, hash->len) == 0;
    if (rc == SL_OK && !same) {
        /* a policy document: only "policies" stays */
        for (size_t i = sl_node_len(root); i-- > 0;) {
            sl_str k = sl_node_key(root, i);
            if (!(k.len == 8 && memcmp(k.ptr, "policies", 8) == 0)) {
                sl_node_remove(root, i);
            }
        }
        if (sl_node_len(root) == 0) { /* proto-JSON leaves out [] */
            sl_node *list = NULL;
            rc = sl_node_obj_append(doc, root, "policies", 8, &list);
            rc = rc == SL_OK ? sl_node_set_container(doc, list, SL_NODE_ARRAY)
                             : rc;
            if (rc != SL_OK) {
                sl__nomem(err);
            }
        }
        if (rc == SL_OK) {
            *keep = doc;
            doc = NULL;
        }
    }
    sl_doc_free(doc);
    return rc;
}

const sl_doc *sl__sync_doc(const sl__sync *s) {
    return s->doc;
}

sl_status sl__sync_compiled(sl__sync *s, const sl_policy_set *set) {
    s->errs.len = 0;
    if (!s->doc) {
        return SL_OK;
    }
    sl_status rc = encode_errors(sl_node_get(sl_doc_root(s->doc), "policies"),
                                 set, &s->errs);
    if (rc != SL_OK) {
        s->errs.len = 0;
    }
    return rc;
}

/* Send body, the answer's body into resp: SL_OK or SL_EIO. */
static sl_status call(sl__sync *s, const sl_buf *body, sl_buf *resp,
                      sl_error *err) {
    if (s->grpc) {
        sl__grpc_reply r;
        if (sl__grpc_client_call(s->grpc, sync_path, body->ptr, body->len, resp,
                                 &r) == SL_FORWARD_OK) {
            return SL_OK;
        }
        if (r.grpc_status > 0) {
            return sl__error(err, SL_EIO, NULL,
                             "policy provider answered gRPC status %d: %.160s",
                             r.grpc_status, r.message);
        }
        return r.http_status ? sl__error(err, SL_EIO, NULL,
                                         "policy provider answered HTTP %d",
                                         r.http_status)
                             : sl__error(err, SL_EIO, NULL,
                                         "policy provider did not answer");
    }
    int status = 0;
    if (sl__serve_forward_call(s->http, body->ptr, body->len, &status, resp) ==
        SL_FORWARD_OK) {
        return SL_OK;
    }
    return status
               ? sl__error(err, SL_EIO, NULL,
                           "policy provider answered HTTP %d", status)
               : sl__error(err, SL_EIO, NULL, "policy provider did not answer");
}

sl_status sl__sync_run(sl__sync *s, const sl_policy_set *set, bool *changed,
                       sl_error *err) {
    *changed = false;
    base_ent *cur = NULL;
    size_t ncur = 0;
    sl_buf req = {0}, resp = {0}, pb = {0};
    sl_status rc = snapshot(set, &cur, &ncur);
    rc = rc == SL_OK ? encode_request(s, cur, ncur, s->proto, &req) : rc;
    if (rc != SL_OK) {
        sl__nomem(err);
        goto done;
    }
    if (s->proto) {
        rc = sl__sync_pb_from_json(SL_SYNC_MSG_REQUEST, req.ptr, req.len, &pb,
                                   err);
        if (rc != SL_OK) {
            goto done;
        }
    }
    rc = call(s, s->proto ? &pb : &req, &resp, err);
    if (rc != SL_OK) {
        goto done;
    }
    /* reported: the deltas start again from here */
    base_free(s->base, s->nbase);
    s->base = cur;
    s->nbase = ncur;
    cur = NULL;
    ncur = 0;
    rc = sl__sync_answer(s, resp.ptr, resp.len, changed, err);
done:
    base_free(cur, ncur);
    sl__buf_free(&req);
    sl__buf_free(&resp);
    sl__buf_free(&pb);
    return rc;
}

sl_status sl__sync_answer(sl__sync *s, const char *body, size_t len,
                          bool *changed, sl_error *err) {
    *changed = false;
    sl_buf json = {0}, hash = {0};
    sl_doc *doc = NULL;
    uint32_t interval = 0;
    sl_status rc = SL_OK;
    if (s->proto) { /* the answer as proto-JSON */
        rc = sl__sync_pb_to_json(SL_SYNC_MSG_RESPONSE, body, len, &json, err);
    } else {
        rc = sl__buf_append(&json, body ? body : "", len);
        if (rc != SL_OK) {
            sl__nomem(err);
        }
    }
    rc = rc == SL_OK ? take_answer(s, &json, &doc, &interval, &hash, err) : rc;
    if (rc == SL_OK) {
        s->interval = interval;
        if (doc) {
            sl_buf t = s->hash;
            s->hash = hash;
            hash = t;
            sl_doc_free(s->doc);
            s->doc = doc;
            s->have = true;
            *changed = true;
        }
    }
    sl__buf_free(&json);
    sl__buf_free(&hash);
    return rc;
}
