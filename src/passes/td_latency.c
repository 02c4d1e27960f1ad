#include "td_latency.h"

#include <stdio.h>

int td_latency_explicit(const td_compress_opts *o)
{
    return o->global == TD_GLOBAL_NONE && !o->vbmf &&
           (!o->method_auto || o->include);
}

size_t td_latency_kept(const td_compress_report *r, size_t *first)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_layers; i++) {
        if (!r->layers[i].kept_for_speed)
            continue;
        if (!n && first)
            *first = i;
        n++;
    }
    return n;
}

const char *td_latency_hint(const td_compress_opts *o,
                            const td_compress_report *r, char *buf, size_t n)
{
    size_t first = 0, k = td_latency_kept(r, &first);
    if (!n)
        return "";
    buf[0] = 0;
    if (k && !o->allow_slower && !o->force)
        snprintf(buf, n, "; %zu layer%s kept because every chain is predicted "
                 "slower than the layer (the first, '%s' (%s)); "
                 "options.allow_slower uses such chains", k, k == 1 ? " is" : "s are",
                 r->layers[first].node, r->layers[first].op);
    return buf;
}

td_status td_latency_refuse_none(const td_compress_opts *o,
                                 const td_compress_report *r, td_err_t *err)
{
    size_t first = 0, k = td_latency_kept(r, &first);
    if (!k || o->allow_slower || o->force)
        return TD_OK;
    for (size_t i = 0; i < r->n_layers; i++)
        if (r->layers[i].method != TD_KEEP)
            return TD_OK;
    return td_err_set(err, TD_EUNMET,
                      "nothing could be compressed without being slower: "
                      "%zu of the %zu layers %s kept because every chain "
                      "is predicted slower than the layer (the first, '%s' "
                      "(%s))%s; options.allow_slower writes the chains anyway", k,
                      r->n_layers, k == 1 ? "is" : "are",
                      r->layers[first].node, r->layers[first].op,
                      k < r->n_layers ? ", the others for other reasons" : "");
}
