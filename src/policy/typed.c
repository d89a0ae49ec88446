/* src/policy/typed.c: typed matchers (equals / gt / gte / lt / lte, policy
 * schema v1.5.0) against a field's typed value. Owns only the comparison;
 * the literal is parsed in load.c and the value read through sl_otlp_typed.
 *
 * The one idea: numbers compare across int and double (as f64 unless both
 * are ints, which compare exactly); bools and bytes only equal their own
 * type; anything else, or an absent field, is false. */
#include "policy/private.h"

bool sl__policy_typed_eval(const sl__typed *t, const sl_value *v) {
    if (!v) {
        return false;
    }
    const sl_value *l = &t->lit;
    if (t->op == SL_TYPED_EQ) {
        switch (l->type) {
        case SL_VALUE_BOOL:
            return v->type == SL_VALUE_BOOL && v->b == l->b;
        case SL_VALUE_BYTES:
            return v->type == SL_VALUE_BYTES && v->s.len == l->s.len &&
                   (l->s.len == 0 || memcmp(v->s.ptr, l->s.ptr, l->s.len) == 0);
        case SL_VALUE_INT:
            if (v->type == SL_VALUE_INT) {
                return v->i == l->i;
            }
            return v->type == SL_VALUE_DOUBLE && v->d == (double)l->i;
        case SL_VALUE_DOUBLE:
            if (v->type == SL_VALUE_INT) {
                return (double)v->i == l->d;
            }
            return v->type == SL_VALUE_DOUBLE && v->d == l->d;
        default:
            return false;
        }
    }
    if (v->type != SL_VALUE_INT && v->type != SL_VALUE_DOUBLE) {
        return false;
    }
    int cmp = 0; /* sign of (value - literal); 2 = unordered (NaN) */
    if (v->type == SL_VALUE_INT && l->type == SL_VALUE_INT) {
        cmp = v->i < l->i ? -1 : v->i > l->i;
    } else {
        double a = v->type == SL_VALUE_INT ? (double)v->i : v->d;
        double b = l->type == SL_VALUE_INT ? (double)l->i : l->d;
        cmp = a < b ? -1 : a > b ? 1 : a == b ? 0 : 2;
    }
    if (cmp == 2) {
        return false;
    }
    switch (t->op) {
    case SL_TYPED_GT:
        return cmp > 0;
    case SL_TYPED_GTE:
        return cmp >= 0;
    case SL_TYPED_LT:
        return cmp < 0;
    case SL_TYPED_LTE:
        return cmp <= 0;
    default:
        return false;
    }
}
