/* prices: reading the price table and costing calls (see prices.h). */
#include "prices.h"
#include "buf.h"
#include "fsutil.h"
#include "util.h"
#include "workflow.h"
#include "ydoc.h"

#include <string.h>

void prices_release(struct prices *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].model);
    free(p->v);
    free(p->file);
    memset(p, 0, sizeof *p);
}

static bool read_price(const struct ydoc_node *m, const char *key, double *out,
                       struct diag_list *dl)
{
    const struct ydoc_node *v = ydoc_get(m, key);
    *out = -1;
    if (!v || ydoc_is_null(v))
        return true;
    if (!ydoc_number(v, out) || *out < 0) {
        diag_add(dl, v->file, v->line, v->col, "'%s' must be a number of USD >= 0, not %s", key,
                 ydoc_describe(v));
        *out = -1;
        return false;
    }
    return true;
}

int prices_load(struct prices *p, const char *path, struct diag_list *dl)
{
    memset(p, 0, sizeof *p);
    p->file = xstrdup(path);
    struct buf text = BUF_INIT;
    if (buf_read_file(&text, path) < 0) {
        diag_add(dl, path, 0, 0, "cannot read the price table");
        buf_release(&text);
        return -1;
    }
    struct ydoc_node *root = NULL;
    size_t before = dl->n;
    ydoc_parse(text.data, text.len, p->file, &root, dl);
    buf_release(&text);
    const struct ydoc_node *models = root ? ydoc_get(root, "models") : NULL;
    if (root && (!models || models->kind != YDOC_MAP))
        diag_add(dl, p->file, root->line, root->col, "the price table needs a 'models' mapping");
    for (size_t i = 0; models && models->kind == YDOC_MAP && i < models->n_pairs; i++) {
        const struct ydoc_pair *pr = &models->pairs[i];
        if (pr->val->kind != YDOC_MAP) {
            diag_add(dl, p->file, pr->val->line, pr->val->col,
                     "price of '%s' must be a mapping (input, output, per_image, per_second)",
                     pr->key->str);
            continue;
        }
        for (size_t k = 0; k < pr->val->n_pairs; k++) {
            const char *f = pr->val->pairs[k].key->str;
            if (strcmp(f, "input") && strcmp(f, "output") && strcmp(f, "per_image") &&
                strcmp(f, "per_second"))
                diag_add(dl, p->file, pr->val->pairs[k].key->line, pr->val->pairs[k].key->col,
                         "unknown key '%s' in the price of '%s' (input, output, per_image, "
                         "per_second)",
                         f, pr->key->str);
        }
        struct price *x = VEC_PUSH(p->v, p->n, p->cap);
        x->model = xstrdup(pr->key->str);
        read_price(pr->val, "input", &x->input, dl);
        read_price(pr->val, "output", &x->output, dl);
        read_price(pr->val, "per_image", &x->per_image, dl);
        read_price(pr->val, "per_second", &x->per_second, dl);
    }
    ydoc_free(root);
    return dl->n > before ? -1 : 0;
}

int prices_load_for_job(struct prices *p, const char *job_dir, const char *override,
                        struct diag_list *dl)
{
    if (override)
        return prices_load(p, override, dl);
    char *own = fs_join(job_dir, "prices.yaml");
    struct fs_facts f;
    if (fs_stat(job_dir, "prices.yaml", &f) == 0) {
        int rc = prices_load(p, own, dl);
        free(own);
        return rc;
    }
    free(own);
    return prices_load_default(p, NULL, dl);
}

int prices_load_default(struct prices *p, const char *override, struct diag_list *dl)
{
    if (override)
        return prices_load(p, override, dl);
    struct buf path = BUF_INIT;
    int rc = 0;
    if (workflow_find_bundled("prices", &path) == 0)
        rc = prices_load(p, path.data, dl);
    else
        memset(p, 0, sizeof *p);
    buf_release(&path);
    return rc;
}

const struct price *prices_find(const struct prices *p, const char *model)
{
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->v[i].model, model) == 0)
            return &p->v[i];
    }
    return NULL;
}

bool prices_cost(const struct prices *p, const char *model, double in_tokens, double out_tokens,
                 int images, double seconds, double *usd, const char **why)
{
    const struct price *x = prices_find(p, model);
    *usd = 0;
    if (!x) {
        *why = p->file ? "no price known for this model" : "no price table";
        return false;
    }
    if (x->per_second >= 0 && seconds > 0) { /* the input (image, prompt) at its token price */
        *usd = x->per_second * seconds + in_tokens * (x->input > 0 ? x->input : 0) / 1e6;
        return true;
    }
    if (x->per_image >= 0) {
        *usd = x->per_image * images;
        return true;
    }
    if (x->output < 0 || (in_tokens > 0 && x->input < 0)) {
        *why = x->output < 0 ? "no output price known" : "no input price known";
        return false;
    }
    *usd = (in_tokens * (x->input > 0 ? x->input : 0) + out_tokens * x->output) / 1e6;
    return true;
}

const char *const prices_tier_names[3] = {"standard", "flex", "priority"};

int prices_tier_index(const char *tier)
{
    if (tier && strcmp(tier, "flex") == 0)
        return 1;
    if (tier && strcmp(tier, "priority") == 0)
        return 2;
    return 0;
}

double prices_tier_factor(const char *tier)
{
    static const double factor[3] = {1.0, 0.5, 2.0};
    return factor[prices_tier_index(tier)];
}
