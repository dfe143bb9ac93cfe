/* cli_opts: the one option parser of every command (see cli_parse in cli.h): the table of every
 * option, getopt_long over the ones a command accepts, and the same words for the same mistake. */
#include "cli.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const struct option all_options[] = {
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"follow", no_argument, NULL, OPT_FOLLOW},
    {"set", required_argument, NULL, OPT_SET},
    {"workflow", required_argument, NULL, OPT_WORKFLOW},
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {"api-key-file", required_argument, NULL, OPT_API_KEY_FILE},
    {"json", no_argument, NULL, OPT_JSON},
    {"no-model-check", no_argument, NULL, OPT_NO_MODEL_CHECK},
    {"strict-models", no_argument, NULL, OPT_STRICT_MODELS},
    {"tier", required_argument, NULL, OPT_TIER},
    {"color", optional_argument, NULL, OPT_COLOR},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"prices", required_argument, NULL, OPT_PRICES},
    {"kind", required_argument, NULL, OPT_KIND},
    {"raw", no_argument, NULL, OPT_RAW},
    {"jobs", required_argument, NULL, OPT_JOBS},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"allow-job-workflows", required_argument, NULL, OPT_ALLOW},
    {"max-cost", required_argument, NULL, OPT_MAX_COST},
    {"quota-dir", required_argument, NULL, OPT_QUOTA_DIR},
    {"no-wait-quota", no_argument, NULL, OPT_NO_WAIT_QUOTA},
};

/* Short options: a letter id with a value when it takes one ("-j 4"). */
static const struct {
    int id;
    bool arg;
} short_options[] = {
    {OPT_QUIET, false}, {OPT_VERBOSE, false}, {OPT_FOLLOW, false}, {OPT_MAX_JOBS, true}};

static bool accepts(const int *accepted, int id)
{
    for (const int *a = accepted; *a; a++)
        if (*a == id)
            return true;
    return false;
}

/* The option as the user wrote it, for messages: "--set", "-j". */
static const char *written(int argc, char **argv)
{
    int i = optind - 1;
    if (i <= 0 || i >= argc)
        return "?";
    return argv[i];
}

int cli_print_options(const char *cmd, FILE *f)
{
    const struct cli_command *c = cli_find(cmd);
    if (!c)
        return -1;
    for (const int *id = c->options; id && *id; id++) {
        for (size_t i = 0; i < ARRAY_SIZE(all_options); i++)
            if (all_options[i].val == *id)
                fprintf(f, "--%s%s\n", all_options[i].name,
                        all_options[i].has_arg == required_argument ? " VALUE" : "");
        for (size_t i = 0; i < ARRAY_SIZE(short_options); i++)
            if (short_options[i].id == *id)
                fprintf(f, "-%c%s\n", short_options[i].id, short_options[i].arg ? " VALUE" : "");
    }
    return 0;
}

int cli_parse(const char *cmd, int argc, char **argv, struct job_cli *jc, cli_own_fn own, void *ctx)
{
    static const int none[] = {0};
    const struct cli_command *c = cli_find(cmd);
    const int *accepted = c && c->options ? c->options : none;
    struct option longs[ARRAY_SIZE(all_options) + 1];
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(all_options); i++)
        if (accepts(accepted, all_options[i].val))
            longs[n++] = all_options[i];
    memset(&longs[n], 0, sizeof longs[n]);
    char shorts[16] = ":"; /* ':' first: a missing value is reported as such */
    size_t k = 1;
    for (size_t i = 0; i < ARRAY_SIZE(short_options); i++) {
        if (!accepts(accepted, short_options[i].id))
            continue;
        shorts[k++] = (char)short_options[i].id;
        if (short_options[i].arg)
            shorts[k++] = ':';
    }
    shorts[k] = '\0';
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        if (opt == ':')
            return cli_usage_error(cmd, "option '%s' needs a value", written(argc, argv));
        if (opt == '?') {
            if (optopt && optopt < 0x100)
                return cli_usage_error(cmd, "unknown option '-%c'", optopt);
            return cli_usage_error(cmd, "unknown option '%s'", written(argc, argv));
        }
        if (opt == OPT_COLOR || opt == OPT_NO_COLOR) {
            if (tx_color_option(opt == OPT_NO_COLOR, optarg, argc, argv, &jc->color) < 0)
                return cli_usage_error(cmd, "--color takes auto, always or never, got '%s'",
                                       optarg);
            continue;
        }
        int r = jc ? job_cli_option(jc, opt, optarg) : 0;
        if (r < 0)
            return cli_usage_error(cmd, "%s", job_cli_problem(opt, optarg));
        if (r == 1)
            continue;
        char why[256] = "";
        if (!own || own(ctx, opt, optarg, why, sizeof why) < 0)
            return cli_usage_error(cmd, "%s", why[0] ? why : "unknown option");
    }
    return 0;
}
