/* RSDTR (reduced-storage direct tensor ring): the TR chain of method_tr.c,
 * with the ring whose storage is smallest over the split and the first rank
 * (td_rsdtr). Everything but the search is TR's. */
#include "td_method.h"

static td_status factor(const td_layer *l, const double *w, const td_factor_request *b,
                        const td_whiten_t *wh, td_factors *f, td_err_t *err)
{
    return td_tr_method_factor(l, w, b, wh, 1, f, err);
}

const td_method_ops td_method_rsdtr = {
    .id = TD_RSDTR, .name = "rsdtr", .applies = td_tr_chain_applies,
    .params = td_tr_chain_params, .macs = td_tr_chain_macs,
    .seconds = td_tr_chain_seconds, .factor = factor,
    .unwhiten = td_tr_chain_unwhiten,
    .const_response = td_tr_chain_const_response, .emit = td_tr_chain_emit,
    .free = td_tr_chain_free,
};
