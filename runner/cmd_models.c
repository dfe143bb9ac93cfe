/* cmd_models: `gemflow models [--kind K] [--json]`: the models this key can use (ListModels, every
 * page), with their methods, token limits and the price gemflow knows for each. Free calls only. */
#include "cli.h"
#include "jsonutil.h"
#include "modelcheck.h"
#include "prices.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ENDPOINT "https://generativelanguage.googleapis.com"

static const struct option models_options[] = {
    {"kind", required_argument, NULL, 'k'},
    {"json", no_argument, NULL, OPT_JSON},
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {"api-key-file", required_argument, NULL, OPT_API_KEY_FILE},
    {"prices", required_argument, NULL, 'P'},
    {NULL, 0, NULL, 0},
};

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

int cmd_models(int argc, char **argv)
{
    struct job_cli jc = {0};
    const char *kind = NULL, *prices_file = NULL;
    bool json = false;
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", models_options, NULL)) != -1) {
        switch (opt) {
        case 'k':
            kind = NULL;
            for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
                if (strcmp(optarg, kinds[i]) == 0)
                    kind = kinds[i];
            if (!kind)
                return cli_usage_error(
                    "models", "--kind takes text, image, speech, video or other, got '%s'", optarg);
            continue;
        case OPT_JSON:
            json = true;
            continue;
        case 'P':
            prices_file = optarg;
            continue;
        case ':':
            return cli_usage_error("models", "option '%s' needs a value", argv[optind - 1]);
        }
        if (opt == '?' || job_cli_option(&jc, opt, optarg) != 1)
            return cli_usage_error("models", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage_error("models", "unexpected argument '%s'", argv[optind]);
    struct gf_err err = GF_ERR_INIT;
    char *key = cli_api_key(jc.api_key_file, &err);
    if (!key) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        return GF_EXIT_USAGE;
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
    int rc;
    if (prices_load_default(&pr, prices_file, &dl) < 0) {
        gf_error(&err, GF_ERR_CONFIG, "the price table has errors");
        rc = cli_report_open_error(&dl, &err);
    } else {
        rc = list_models(ep, from, kind, json, key, &pr);
    }
    diag_list_release(&dl);
    prices_release(&pr);
    memset(key, 0, strlen(key));
    free(key);
    job_cli_release(&jc);
    return rc;
}
