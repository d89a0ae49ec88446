/* src/otlp/write.c: dropping records and writing the batch back out as
 * compact JSON. Leaves out the JSON writer itself (doc module) and the
 * index (load.c).
 *
 * The one idea: only the three levels above the records are walked here;
 * an unchanged record or member is its source text, copied in one piece
 * (sl_doc_node_source), and a changed one goes through the doc writer,
 * which copies the unchanged containers inside it and emits untouched
 * strings and numbers exactly as read.
 * Scopes left without records, and resources left without scopes, are not
 * written, as the reference runner's retain(!is_empty) does
 * (reference/policy-engine-upstream.md §5); that includes ones that were
 * empty in the input. With nothing dropped or changed, the whole document
 * is copied in one piece. */
#include <sluice/otlp.h>

#include "base/base.h"
#include "otlp/private.h"

void sl_otlp_drop(sl_otlp *o, size_t i) {
    if (!o || i >= o->nrec || o->recs[i].dropped) {
        return;
    }
    sl__otlp_rec *r = &o->recs[i];
    r->dropped = 1;
    o->ndropped++;
    sl__otlp_scope *s = &o->scopes[r->scope];
    s->kept--;
    o->res[s->res].kept--;
}

typedef struct wctx {
    const sl_otlp *o;
    sl_buf *out;
    sl_error *err;
} wctx;

/* Write n: a clean subtree's source text in one piece (the index tracks
 * which records and groups changed, so no walk is needed to know), else
 * the doc writer, which still copies every unchanged container inside. */
static sl_status write_node(wctx *w, const sl_node *n, bool dirty) {
    sl_str src;
    if (!dirty && sl_doc_node_source(w->o->doc, n, false, &src)) {
        return sl__buf_append(w->out, src.ptr, src.len);
    }
    return sl_doc_write_json(w->o->doc, n, w->out, w->err);
}

/* The key of member i of obj as it was read, and the colon. */
static sl_status put_key(wctx *w, const sl_node *obj, size_t i) {
    sl_status rc = sl_json_write_key(w->out, obj, i);
    if (rc == SL_OK) {
        rc = sl__buf_putc(w->out, ':');
    }
    return rc;
}

typedef sl_status (*list_fn)(wctx *w, size_t group);

/* Write an entry object: every member through the doc writer except the
 * one list member (camel/snake), written by fn. */
static sl_status write_entry(wctx *w, const sl_node *obj, const char *camel,
                             const char *snake, list_fn fn, size_t group,
                             bool dirty) {
    sl_status rc = sl__buf_putc(w->out, '{');
    size_t n = sl_node_len(obj);
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        if (i > 0) {
            rc = sl__buf_putc(w->out, ',');
        }
        sl_str key = sl_node_key(obj, i);
        if (rc == SL_OK) {
            rc = put_key(w, obj, i);
        }
        if (rc != SL_OK) {
            break;
        }
        const sl_node *v = sl_node_at(obj, i);
        if (sl__otlp_key_is(key, camel, snake) &&
            sl_node_kind_of(v) == SL_NODE_ARRAY) {
            rc = fn(w, group);
        } else {
            rc = write_node(w, v, dirty);
        }
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(w->out, '}');
    }
    return rc;
}

static sl_status write_records(wctx *w, size_t g) {
    const sl_otlp *o = w->o;
    const sl__otlp_scope *s = &o->scopes[g];
    sl_status rc = sl__buf_putc(w->out, '[');
    bool first = true;
    for (uint32_t k = 0; k < s->count && rc == SL_OK; k++) {
        const sl__otlp_rec *r = &o->recs[s->first + k];
        if (r->dropped) {
            continue;
        }
        if (!first) {
            rc = sl__buf_putc(w->out, ',');
        }
        first = false;
        if (rc == SL_OK) {
            rc = write_node(w, r->node, r->dirty);
        }
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(w->out, ']');
    }
    return rc;
}

static const char *const list_camel[3][2] = {
    {"scopeLogs", "logRecords"},
    {"scopeMetrics", "metrics"},
    {"scopeSpans", "spans"},
};
static const char *const list_snake[3][2] = {
    {"scope_logs", "log_records"},
    {"scope_metrics", "metrics"},
    {"scope_spans", "spans"},
};

static sl_status write_scopes(wctx *w, size_t ri) {
    const sl_otlp *o = w->o;
    sl_status rc = sl__buf_putc(w->out, '[');
    bool first = true;
    const sl__otlp_res *r = &o->res[ri];
    for (size_t g = r->sfirst; g < r->sfirst + r->scount && rc == SL_OK; g++) {
        const sl__otlp_scope *s = &o->scopes[g];
        if (s->kept == 0) {
            continue;
        }
        if (!first) {
            rc = sl__buf_putc(w->out, ',');
        }
        first = false;
        if (rc == SL_OK) {
            rc = write_entry(w, s->entry, list_camel[o->sig][1],
                             list_snake[o->sig][1], write_records, g, s->dirty);
        }
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(w->out, ']');
    }
    return rc;
}

static sl_status write_resources(wctx *w, size_t unused) {
    SL_UNUSED(unused);
    const sl_otlp *o = w->o;
    sl_status rc = sl__buf_putc(w->out, '[');
    bool first = true;
    for (size_t ri = 0; ri < o->nres && rc == SL_OK; ri++) {
        const sl__otlp_res *r = &o->res[ri];
        if (r->kept == 0) {
            continue;
        }
        if (!first) {
            rc = sl__buf_putc(w->out, ',');
        }
        first = false;
        if (rc == SL_OK) {
            rc = write_entry(w, r->entry, list_camel[o->sig][0],
                             list_snake[o->sig][0], write_scopes, ri, r->dirty);
        }
    }
    if (rc == SL_OK) {
        rc = sl__buf_putc(w->out, ']');
    }
    return rc;
}

static const char *const root_camel[3] = {"resourceLogs", "resourceMetrics",
                                          "resourceSpans"};
static const char *const root_snake[3] = {"resource_logs", "resource_metrics",
                                          "resource_spans"};

/* ---- lazy loads: from source spans (scan.c kept only compact text) ---- */

static sl_status put_span(wctx *w, uint32_t from, uint32_t to) {
    return sl__buf_append(w->out, w->o->text + from, to - from);
}

/* The kept items of a list, as [a,b]: for each, fn writes item k. */
typedef sl_status (*item_fn)(wctx *w, size_t k);

static sl_status span_list(wctx *w, size_t first, size_t count,
                           bool (*kept)(const sl_otlp *, size_t), item_fn fn) {
    sl_status rc = sl__buf_putc(w->out, '[');
    bool any = false;
    for (size_t k = first; k < first + count && rc == SL_OK; k++) {
        if (!kept(w->o, k)) {
            continue;
        }
        if (any) {
            rc = sl__buf_putc(w->out, ',');
        }
        any = true;
        if (rc == SL_OK) {
            rc = fn(w, k);
        }
    }
    return rc == SL_OK ? sl__buf_putc(w->out, ']') : rc;
}

static bool rec_kept(const sl_otlp *o, size_t k) {
    return !o->recs[k].dropped;
}

static bool scope_kept(const sl_otlp *o, size_t k) {
    return o->scopes[k].kept > 0;
}

static bool res_kept(const sl_otlp *o, size_t k) {
    return o->res[k].kept > 0;
}

static sl_status span_record(wctx *w, size_t k) {
    const sl__otlp_rec *r = &w->o->recs[k];
    return put_span(w, r->off, r->end);
}

/* An entry with kept records has its list: the text around it, the list
 * written item by item. */
static sl_status span_scope(wctx *w, size_t g) {
    const sl__otlp_scope *s = &w->o->scopes[g];
    sl_status rc = put_span(w, s->off, s->loff);
    if (rc == SL_OK) {
        rc = span_list(w, s->first, s->count, rec_kept, span_record);
    }
    return rc == SL_OK ? put_span(w, s->lend, s->end) : rc;
}

static sl_status span_res(wctx *w, size_t ri) {
    const sl__otlp_res *r = &w->o->res[ri];
    sl_status rc = put_span(w, r->off, r->loff);
    if (rc == SL_OK) {
        rc = span_list(w, r->sfirst, r->scount, scope_kept, span_scope);
    }
    return rc == SL_OK ? put_span(w, r->lend, r->end) : rc;
}

static sl_status write_spans(wctx *w) {
    const sl_otlp *o = w->o;
    if (o->ndropped == 0 && o->nempty == 0) {
        return put_span(w, o->root_off, o->root_end);
    }
    sl_status rc = put_span(w, o->root_off, o->list_off);
    if (rc == SL_OK) {
        rc = span_list(w, 0, o->nres, res_kept, span_res);
    }
    return rc == SL_OK ? put_span(w, o->list_end, o->root_end) : rc;
}

sl_status sl_otlp_write(const sl_otlp *o, sl_buf *out, sl_error *err) {
    if (!o || !out) {
        return sl__error(err, SL_EINVAL, NULL, "no batch or no buffer");
    }
    if (o->lazy && o->loaded) {
        size_t start = out->len;
        wctx w = {o, out, err};
        sl_status rc = write_spans(&w);
        return rc == SL_OK ? SL_OK : sl__otlp_write_failed(out, start, rc, err);
    }
    const sl_node *root = sl_doc_root(o->doc);
    if (!root || !o->loaded) {
        return sl__error(err, SL_EINVAL, NULL, "no request loaded");
    }
    size_t start = out->len;
    sl_status rc;
    wctx w = {o, out, err};
    if ((o->ndropped == 0 && o->nempty == 0 && !o->dirty) || !o->list ||
        o->sig == SL_SIGNAL_NONE) {
        rc = write_node(&w, root, o->dirty);
    } else {
        /* the root's other members: changes never reach them */
        rc = write_entry(&w, root, root_camel[o->sig], root_snake[o->sig],
                         write_resources, 0, false);
    }
    return rc == SL_OK ? SL_OK : sl__otlp_write_failed(out, start, rc, err);
}

sl_status sl__otlp_write_failed(sl_buf *out, size_t start, sl_status rc,
                                sl_error *err) {
    out->len = start; /* no half-written request */
    if (out->ptr) {
        out->ptr[start] = '\0';
    }
    if (err && err->code == SL_OK) {
        sl__error(err, rc, NULL, "%s", sl_status_str(rc));
    }
    if (rc == SL_ENOMEM) {
        sl__nomem(err);
    }
    return rc;
}
