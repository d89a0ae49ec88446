/* src/doc/tagged.c: toml-test's tagged JSON writer. Tables become JSON
 * objects (members in document order), arrays JSON arrays, and every
 * scalar a {"type": ..., "value": "<text>"} object whose value is always a
 * string: the decoded text of a string, the normalised lexeme of a number,
 * "inf"/"-inf"/"nan" for the TOML specials, the source lexeme of a
 * date-time. Trees read from JSON or YAML map too: bool as "bool", null
 * as {"type": "null", "value": "null"} (toml-test has no null).
 * Left out: pretty printing; the tagged form is for test harnesses. */
#include <sluice/doc.h>

#include "base/base.h"
#include "doc/private.h"

enum {
    TAGGED_MAX_DEPTH = 4096 /* deeper trees cannot come from a reader with
                               its default limit; stops runaway recursion */
};

static sl_status put(sl_buf *out, const char *s, size_t n) {
    return sl__buf_append(out, s, n);
}

static sl_status put_str(sl_buf *out, const char *s) {
    return sl__buf_append(out, s, strlen(s));
}

static const char *type_name(sl_node_kind k) {
    switch (k) {
    case SL_NODE_NULL:
        return "null";
    case SL_NODE_BOOL:
        return "bool";
    case SL_NODE_INT:
        return "integer";
    case SL_NODE_FLOAT:
        return "float";
    case SL_NODE_STRING:
        return "string";
    case SL_NODE_DATETIME:
        return "datetime";
    case SL_NODE_DATETIME_LOCAL:
        return "datetime-local";
    case SL_NODE_DATE_LOCAL:
        return "date-local";
    case SL_NODE_TIME_LOCAL:
        return "time-local";
    default:
        return NULL;
    }
}

static sl_status write_node(sl_buf *out, const sl_node *n, uint32_t depth,
                            sl_error *err) {
    if (depth > TAGGED_MAX_DEPTH) {
        return sl__error(err, SL_ELIMIT, NULL, "nesting deeper than %u",
                         (unsigned)TAGGED_MAX_DEPTH);
    }
    sl_status rc = SL_OK;
    if (n->kind == SL_NODE_OBJECT || n->kind == SL_NODE_ARRAY) {
        bool obj = n->kind == SL_NODE_OBJECT;
        rc = put(out, obj ? "{" : "[", 1);
        for (uint32_t i = 0; i < n->len && rc == SL_OK; i++) {
            if (i > 0) {
                rc = put(out, ",", 1);
            }
            const sl_node *v = NULL;
            if (obj) {
                const sl__member *m = &n->u.members[i];
                if (rc == SL_OK) {
                    rc = sl_json_write_string(out, m->key.u.s, m->key.len);
                }
                if (rc == SL_OK) {
                    rc = put(out, ":", 1);
                }
                v = &m->val;
            } else {
                v = &n->u.items[i];
            }
            if (rc == SL_OK) {
                rc = write_node(out, v, depth + 1, err);
            }
        }
        if (rc == SL_OK) {
            rc = put(out, obj ? "}" : "]", 1);
        }
        return rc;
    }
    const char *type = type_name((sl_node_kind)n->kind);
    if (!type) {
        return sl__error(err, SL_EINVAL, NULL, "unknown node kind %u",
                         (unsigned)n->kind);
    }
    rc = put_str(out, "{\"type\":\"");
    if (rc == SL_OK) {
        rc = put_str(out, type);
    }
    if (rc == SL_OK) {
        rc = put_str(out, "\",\"value\":");
    }
    if (rc == SL_OK) {
        sl_str s = sl_node_str(n);
        rc = sl_json_write_string(out, s.ptr, s.len);
    }
    if (rc == SL_OK) {
        rc = put(out, "}", 1);
    }
    return rc;
}

sl_status sl_doc_write_tagged(sl_buf *out, const sl_node *n, sl_error *err) {
    if (!out || !n) {
        return sl__error(err, SL_EINVAL, NULL, "no output or no node");
    }
    sl_error mine = {0};
    sl_status rc = write_node(out, n, 0, &mine);
    if (rc == SL_OK) {
        return SL_OK;
    }
    if (mine.code != SL_OK) { /* filled where found: depth, node kind */
        if (err) {
            *err = mine;
        }
        return rc;
    }
    if (rc == SL_ENOMEM) {
        return sl__nomem(err);
    }
    return sl__error(err, rc, NULL, "output larger than the limit");
}
