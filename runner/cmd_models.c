/* cmd_models: `gemflow models [--kind K] [--json]`: the models this key can use (ListModels, every
 * page), with their methods, token limits and the price gemflow knows for each. Free calls only. */
#include "cli.h"
#include "jsonutil.h"
#include "modelcheck.h"
#include "prices.h"
#include "util.h"

#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ENDPOINT "https://generativelanguage.googleapis.com"

static const char *const kinds[] = {"text", "image", "speech", "video", "other"};

/* "$0.75 in / $3.75 out per 1M tokens", "$0.04 per image", or "unknown". */
static void price_text(const struct price *p, struct buf *b)
{
    if (!p) {
        buf_adds(b, "unknown");
        return;
    }
    if (p->per_image >= 0) {
        buf_addf(b, "$%g per image", p->per_image);
        return;
    }
    if (p->input >= 0)
        buf_addf(b, "$%g in / ", p->input);
    if (p->output >= 0)
        buf_addf(b, "$%g out per 1M tokens", p->output);
    else
        buf_adds(b, "output price unknown");
}

static cJSON *model_json(const struct mc_model *m, const struct price *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", m->name);
    json_add_str_or_null(o, "display_name", m->display_name);
    cJSON_AddStringToObject(o, "kind", mc_model_kind(m));
    cJSON *methods = cJSON_AddArrayToObject(o, "methods");
    for (size_t i = 0; i < m->n_methods; i++)
        cJSON_AddItemToArray(methods, cJSON_CreateString(m->methods[i]));
    if (m->input_limit >= 0)
        json_add_i64(o, "input_token_limit", m->input_limit);
    else
        cJSON_AddNullToObject(o, "input_token_limit");
    if (m->output_limit >= 0)
        json_add_i64(o, "output_token_limit", m->output_limit);
    else
        cJSON_AddNullToObject(o, "output_token_limit");
    if (!p) {
        cJSON_AddNullToObject(o, "price");
        return o;
    }
    cJSON *pr = cJSON_AddObjectToObject(o, "price");
    if (p->input >= 0)
        cJSON_AddNumberToObject(pr, "input_per_1m", p->input);
    if (p->output >= 0)
        cJSON_AddNumberToObject(pr, "output_per_1m", p->output);
    if (p->per_image >= 0)
        cJSON_AddNumberToObject(pr, "per_image", p->per_image);
    return o;
}

static int list_models(const char *endpoint, const char *from, const char *kind, bool json,
                       const char *key, const struct prices *pr)
{
    char *origin = NULL, *api_root = NULL;
    struct gf_err err = GF_ERR_INIT;
    if (job_endpoint_parse(endpoint, from, &origin, &api_root, &err) < 0) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        return GF_EXIT_USAGE;
    }
    char *root = xasprintf("%s%s", origin, api_root);
    int rc = GF_EXIT_OK;
    struct http_client *http = http_client_new(&err);
    struct modelcheck *mc = http ? mc_new(http, key) : NULL;
    if (!mc) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        rc = GF_EXIT_FAILED;
        goto out;
    }
    mc_want_list(mc, root);
    if (mc_wait_all(mc, &err) < 0) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        rc = GF_EXIT_FAILED;
        goto out;
    }
    const struct mc_list *l = mc_get_list(mc, root);
    if (l->state != MC_SERVED) {
        fprintf(stderr, "gemflow: cannot list the models of %s: %s\n", root,
                l->message ? l->message : "no answer");
        rc = l->state == MC_DENIED ? GF_EXIT_USAGE : GF_EXIT_FAILED;
        goto out;
    }
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    size_t shown = 0;
    if (!json)
        printf("%-34s %-7s %-9s %-9s %-48s %s\n", "MODEL", "KIND", "IN TOK", "OUT TOK", "METHODS",
               "PRICE (workflows/prices.yaml)");
    for (size_t i = 0; i < l->n_models; i++) {
        const struct mc_model *m = &l->models[i];
        if (kind && strcmp(mc_model_kind(m), kind) != 0)
            continue;
        const struct price *p = prices_find(pr, m->name);
        shown++;
        if (json) {
            cJSON_AddItemToArray(arr, model_json(m, p));
            continue;
        }
        struct buf methods = BUF_INIT, price = BUF_INIT;
        for (size_t k = 0; k < m->n_methods; k++)
            buf_addf(&methods, "%s%s", k ? "," : "", m->methods[k]);
        price_text(p, &price);
        char in[24] = "-", out[24] = "-";
        if (m->input_limit >= 0)
            snprintf(in, sizeof in, "%lld", (long long)m->input_limit);
        if (m->output_limit >= 0)
            snprintf(out, sizeof out, "%lld", (long long)m->output_limit);
        printf("%-34s %-7s %-9s %-9s %-48s %s\n", m->name, mc_model_kind(m), in, out,
               methods.len ? methods.data : "-", price.data);
        buf_release(&methods);
        buf_release(&price);
    }
    if (json) {
        struct buf b = BUF_INIT;
        json_pretty(arr, &b);
        fputs(b.data, stdout);
        buf_release(&b);
        cJSON_Delete(arr);
    } else {
        printf("%zu model%s%s%s, from %s (%d page%s)\n", shown, shown == 1 ? "" : "s",
               kind ? " of kind " : "", kind ? kind : "", root, l->pages, l->pages == 1 ? "" : "s");
    }
out:
    mc_free(mc);
    http_client_free(http);
    free(root);
    free(origin);
    free(api_root);
    return rc;
}

struct models_args {
    const char *kind, *prices_file;
    bool json;
};

/* --kind K, --json, --prices FILE */
static int models_own(void *ctx, int id, const char *arg, char *why, size_t why_len)
{
    struct models_args *a = ctx;
    switch (id) {
    case OPT_KIND:
        a->kind = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
            if (strcmp(arg, kinds[i]) == 0)
                a->kind = kinds[i];
        if (!a->kind) {
            snprintf(why, why_len, "--kind takes text, image, speech, video or other, got '%s'",
                     arg);
            return -1;
        }
        return 0;
    case OPT_JSON:
        a->json = true;
        return 0;
    case OPT_PRICES:
        a->prices_file = arg;
        return 0;
    }
    return -1;
}

int cmd_models(int argc, char **argv)
{
    struct job_cli jc = {0};
    struct models_args a = {0};
    int rc = cli_parse("models", argc, argv, &jc, models_own, &a);
    if (rc) {
        job_cli_release(&jc);
        return rc;
    }
    const char *kind = a.kind, *prices_file = a.prices_file;
    bool json = a.json;
    struct gf_err err = GF_ERR_INIT;
    char *key = NULL;
    if (optind < argc) {
        rc = cli_usage_error("models", "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    key = cli_api_key(jc.api_key_file, &err);
    if (!key) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        rc = GF_EXIT_USAGE;
        goto out;
    }
    const char *ep = jc.job.endpoint, *from = "--endpoint";
    if (!ep || !ep[0]) {
        ep = getenv("GEMINI_BASE_URL");
        from = "$GEMINI_BASE_URL";
    }
    if (!ep || !ep[0])
        ep = DEFAULT_ENDPOINT;
    struct prices pr;
    struct diag_list dl = DIAG_LIST_INIT;
    if (prices_load_default(&pr, prices_file, &dl) < 0) {
        gf_error(&err, GF_ERR_CONFIG, "the price table has errors");
        rc = cli_report_open_error(&dl, &err);
    } else {
        rc = list_models(ep, from, kind, json, key, &pr);
    }
    diag_list_release(&dl);
    prices_release(&pr);
out:
    cli_api_key_free(key);
    job_cli_release(&jc);
    return rc;
}
