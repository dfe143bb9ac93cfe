/* gemflow: resumable Gemini media workflows. The command table and the top-level help. */
#include "cli.h"
#include "err.h"
#include "util.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>

#define QUOTA_OPTIONS                                                                              \
    "  --quota-dir DIR      the quota directory every gemflow process on the key shares\n"         \
    "                       (default $GEMFLOW_QUOTA_DIR, $XDG_STATE_HOME/gemflow/quota, else\n"    \
    "                       ~/.local/state/gemflow/quota); see 'gemflow quota'\n"                  \
    "  --no-wait-quota      when a model's per-day quota is used up, fail its items instead\n"     \
    "                       of waiting for the reset at midnight Pacific\n"

#define JOB_OPTIONS                                                                                \
    "  --set K=V            override a workflow field (repeatable), e.g. --set images.model=X\n"   \
    "  --workflow FILE      use this workflow instead of JOB/workflow.yaml or the default\n"       \
    "  --endpoint URL       API base URL (default $GEMINI_BASE_URL, the workflow's endpoint,\n"    \
    "                       else https://generativelanguage.googleapis.com)\n"

#define KEY_FILE_OPTION                                                                            \
    "  --api-key-file FILE  read the API key from FILE (yours, mode 0600 or stricter)\n"

/* The options of the runs that call models: run, rerun and watch. */
#define MODEL_OPTIONS                                                                              \
    "  --tier TIER          the service tier of every call: flex (half price, 1-15 minutes a\n"    \
    "                       call), standard or priority; wins over the workflow's service_tier\n"  \
    "  --strict-models      a reply from another model than the one asked (the API rerouted\n"     \
    "                       it) fails its item, not retried: strict_model: true on every stage\n"  \
    "  --no-model-check     do not ask the free models.get before the first paid call (for a\n"    \
    "                       proxy that does not serve it): defaults.model_check: false\n"

#define RUN_OPTIONS                                                                                \
    JOB_OPTIONS KEY_FILE_OPTION                                                                    \
        "  --max-cost USD       do not start when the job's spending so far plus the estimate "    \
        "of\n"                                                                                     \
        "                       what this run would call exceeds USD (limits.max_cost "            \
        "alike)\n" MODEL_OPTIONS "  -q, --quiet          print only failures and the final line\n" \
        "  -v, --verbose        print every call\n"                                                \
        "  --color[=WHEN]       auto (default: on a terminal, unless $NO_COLOR), always, never;\n" \
        "                       --color alone is always\n"                                         \
        "  --no-color           the same as --color=never\n" QUOTA_OPTIONS

/* What each command accepts (cli_parse takes them from here); its usage below names each one,
 * which tests/e2e/t_help.sh checks against `gemflow __complete options CMD`. */
static const int run_options[] = {CLI_JOB_OPTS,      OPT_API_KEY_FILE,  OPT_NO_MODEL_CHECK,
                                  OPT_STRICT_MODELS, OPT_TIER,          OPT_QUIET,
                                  OPT_VERBOSE,       OPT_MAX_COST,      CLI_COLOR_OPTS,
                                  OPT_QUOTA_DIR,     OPT_NO_WAIT_QUOTA, 0};
static const int plan_options[] = {CLI_JOB_OPTS, OPT_API_KEY_FILE, OPT_NO_MODEL_CHECK,
                                   OPT_TIER,     OPT_PRICES,       0};
static const int status_options[] = {OPT_JOBS, OPT_JSON, CLI_COLOR_OPTS, CLI_JOB_OPTS, 0};
static const int log_options[] = {OPT_FOLLOW, OPT_JSON, CLI_COLOR_OPTS, 0};
static const int inspect_options[] = {OPT_RAW, CLI_COLOR_OPTS, 0};
static const int accept_options[] = {CLI_JOB_OPTS, 0};
static const int report_options[] = {CLI_JOB_OPTS, 0};
static const int quota_options[] = {OPT_QUOTA_DIR, OPT_JSON, 0};
static const int validate_options[] = {OPT_SET, OPT_ALLOW, OPT_WORKFLOW, 0};
static const int models_options[] = {OPT_KIND,         OPT_JSON,   OPT_ENDPOINT,
                                     OPT_API_KEY_FILE, OPT_PRICES, 0};
static const int watch_options[] = {
    OPT_JOBS,         OPT_MAX_JOBS,       OPT_GRACE,         OPT_ALLOW, CLI_JOB_OPTS,
    OPT_API_KEY_FILE, OPT_NO_MODEL_CHECK, OPT_STRICT_MODELS, OPT_TIER,  OPT_QUIET,
    OPT_VERBOSE,      OPT_QUOTA_DIR,      OPT_NO_WAIT_QUOTA, 0};

static const struct cli_command commands[] = {
    {"run", cmd_run, "run or resume jobs; done items are skipped",
     "usage: gemflow run [options] JOB...\n"
     "\n"
     "Run each job directory to the end, resuming where it stopped. Items whose request is\n"
     "unchanged and whose artifact is on disk are not called again. Without JOB/workflow.yaml\n"
     "a job runs the bundled 'script-to-media' workflow on JOB/script.txt. Before its first\n"
     "paid call a run asks the free models.get for every model it may call: one not served,\n"
     "or without the stage's method, stops it (exit 2) before anything is paid for.\n"
     "\n"
     "options:\n" RUN_OPTIONS "\n"
     "On a terminal, stderr shows a live bar per job and per stage: items done/total, calls\n"
     "in flight, retries and an ETA from the latencies of this run (none before a call has\n"
     "answered); elsewhere, one timestamped line per stage start and end, retry, failure and\n"
     "run end. progress.jsonl's progress events carry the same percent and ETA.\n"
     "\n"
     "The API key comes from --api-key-file, $GEMINI_API_KEY or $GOOGLE_API_KEY.\n"
     "exit status: 0 done, 1 a stage failed, 2 usage or configuration error,\n"
     "3 interrupted, 4 the job is locked by another process\n",
     run_options},
    {"rerun", cmd_rerun, "regenerate stages (and what depends on them)",
     "usage: gemflow rerun [options] JOB [STAGE | STAGE/ITEM ...]\n"
     "\n"
     "Regenerate every item of the named stages (STAGE/ITEM: that item), also hand-edited\n"
     "ones, then run the rest of the job; stages downstream are redone where their request\n"
     "changes. Without STAGE, redo what failed (the same as run). A clip whose create's answer\n"
     "was lost (op_lost) is created anew only this way: the API may be making it already.\n"
     "\n"
     "options (the same as for 'gemflow run'):\n" RUN_OPTIONS,
     run_options},
    {"plan", cmd_plan, "show what a run would call, why, and its cost; pays for nothing",
     "usage: gemflow plan [options] JOB...\n"
     "\n"
     "For every stage: its items, which are cached, which would be called and why (new,\n"
     "request changed, output missing, failed last time), and the estimated cost. Stages\n"
     "whose input does not exist yet are shown as 'after STAGE'. Changes nothing and pays\n"
     "for nothing. Needs no API key; with one (--api-key-file, $GEMINI_API_KEY or\n"
     "$GOOGLE_API_KEY) it also makes a run's model check, the free models.get for every\n"
     "model it would call, and exits 2 when one is not served or lacks the stage's method.\n"
     "\n"
     "options:\n" JOB_OPTIONS KEY_FILE_OPTION
     "  --no-model-check     do not ask models.get (defaults.model_check: false alike)\n"
     "  --tier TIER          price every call at this tier: flex (half the standard price),\n"
     "                       standard or priority (twice); wins over the workflow's\n"
     "                       service_tier\n"
     "  --prices FILE        another price table (default JOB/prices.yaml, else the bundled\n"
     "                       workflows/prices.yaml)\n",
     plan_options},
    {"status", cmd_status, "show the state of jobs",
     "usage: gemflow status [options] JOB... | --jobs DIR\n"
     "\n"
     "Per job: its state (running with its pid, done, failed, killed, interrupted, pending,\n"
     "new), the last run and how long ago anything happened. Per stage: state, items\n"
     "done/failed/total, time, calls and tokens, edited and accepted artifacts, calls in\n"
     "flight, and for a failure the item, the HTTP status and the API's own message.\n"
     "With --jobs DIR, one line per job. Reads only; works while a job runs.\n"
     "\n"
     "options:\n"
     "  --jobs DIR           every job directory under DIR, one line each\n"
     "  --json               JSON on stdout, as documented by docs/status.schema.json\n"
     "  --color[=WHEN]       auto (default: on a terminal, unless $NO_COLOR), always, never;\n"
     "                       --color alone is always; --no-color is never\n" JOB_OPTIONS
     "                       (--set, --workflow and --endpoint change the requests, and so\n"
     "                       what counts as done: give them as the run had them)\n",
     status_options},
    {"log", cmd_log, "show a job's progress log, readable; -f follows it",
     "usage: gemflow log [options] JOB\n"
     "\n"
     "Every event of JOB/progress.jsonl as one aligned line: local time, event, stage/item\n"
     "and what happened (HTTP status, latency, tokens, retries with their delays, failures\n"
     "in the API's words). Coloured on a terminal. A line still being written is not shown.\n"
     "\n"
     "options:\n"
     "  -f, --follow         keep reading as the job appends, like tail -f (Ctrl-C ends)\n"
     "  --json               the JSON lines as they are\n"
     "  --color[=WHEN]       auto (default: on a terminal, unless $NO_COLOR), always, never;\n"
     "                       --color alone is always; --no-color is never\n",
     log_options},
    {"inspect", cmd_inspect, "show an item's call: request, response, attempts, timings",
     "usage: gemflow inspect [options] JOB STAGE [ITEM]\n"
     "\n"
     "The call record JOB/.gemflow/calls/STAGE/ITEM.json made readable: the request as sent\n"
     "(prompt, system instruction, settings; inline media as size + sha256 + path; the API\n"
     "key is never recorded), the response (text parts, finish reason, safety ratings, token\n"
     "usage, or the API's error), every attempt with its error and retry delay, the timings,\n"
     "and whether the artifact on disk is still the recorded one. Without ITEM: the item of\n"
     "a single-item stage, else one line per recorded item.\n"
     "\n"
     "options:\n"
     "  --raw                print the record's JSON\n"
     "  --color[=WHEN]       auto (default: on a terminal, unless $NO_COLOR), always, never;\n"
     "                       --color alone is always; --no-color is never\n",
     inspect_options},
    {"accept", cmd_accept, "adopt the artifacts on disk as done for today's request",
     "usage: gemflow accept [options] JOB STAGE [ITEM...]\n"
     "\n"
     "Record the artifacts on disk of the named items (default: every item of STAGE) as done\n"
     "for the request a run would send today, without calling the API: for when a prompt\n"
     "edit was cosmetic and paying for the calls again is not wanted. Each artifact must\n"
     "exist and be usable (an image that decodes whole as the PNG, JPEG or WebP its name\n"
     "says, a WAV that reads, a clip ffprobe reads, JSON that matches the stage's schema);\n"
     "if one is not, nothing is recorded. Items already done are left as they are. Takes\n"
     "the job's lock. progress.jsonl gets an item_done with \"accepted\": true per item;\n"
     "'gemflow status' lists them.\n"
     "\n"
     "options:\n" JOB_OPTIONS
     "exit status: 0 accepted, 2 nothing accepted (see the message), 4 locked\n",
     accept_options},
    {"report", cmd_report, "write JOB/report.html: prompts beside images, audio, costs, errors",
     "usage: gemflow report [options] JOB...\n"
     "\n"
     "Write JOB/report.html, one self-contained page (no script, no network): the script,\n"
     "the analysis, per scene its prompt beside its image and its narration with an audio\n"
     "player, the video when there is one, per stage time, calls, tokens and cost, every\n"
     "failure in the API's words, and edited or accepted artifacts marked. Media are linked\n"
     "by relative path, so the page works when the job directory is copied elsewhere.\n"
     "\n"
     "options:\n" JOB_OPTIONS,
     report_options},
    {"__complete", cmd_complete, NULL,
     "usage: gemflow __complete stages JOB | items JOB STAGE | options COMMAND\n"
     "\n"
     "Names for the shell completion, one per line (contrib/gemflow.bash-completion).\n",
     NULL},
    {"quota", cmd_quota, "show the shared API quota: learned limits, requests counted",
     "usage: gemflow quota [options]\n"
     "\n"
     "What the quota directory holds, per API key fingerprint (a hash of the key and the\n"
     "endpoint; the key is never written) and model: the limits the server stated in its\n"
     "429s (requests or tokens, per minute or per day) with the quota id, when and from which\n"
     "call each was learned; the requests of the last minute; today's requests (the Pacific\n"
     "day) and when the count resets (midnight Pacific); a 429's pause still running. Every\n"
     "gemflow run, rerun and watch on the key paces to these limits together. Reads only.\n"
     "\n"
     "options:\n"
     "  --quota-dir DIR      the quota directory (default $GEMFLOW_QUOTA_DIR,\n"
     "                       $XDG_STATE_HOME/gemflow/quota, else ~/.local/state/gemflow/quota)\n"
     "  --json               the same as JSON on stdout\n",
     quota_options},
    {"validate", cmd_validate, "check a workflow file and report every error",
     "usage: gemflow validate [options] WORKFLOW|JOB\n"
     "\n"
     "Load a workflow (a file, or a job directory's workflow) and report every problem as\n"
     "file:line:column: message. exit status: 0 valid, 2 errors found.\n"
     "\n"
     "options:\n"
     "  --set K=V            override a workflow field (repeatable)\n"
     "  --allow-job-workflows none|set|full\n"
     "                       check WORKFLOW as a drop's workflow.yaml would be checked by\n"
     "                       gemflow watch with this option\n"
     "  --workflow FILE      with --allow-job-workflows: the watcher's workflow\n",
     validate_options},
    {"models", cmd_models, "list the models this key can use, with prices",
     "usage: gemflow models [options]\n"
     "\n"
     "Ask the API which models this key can use (models.list, every page; free) and print\n"
     "each with its kind (text, image, speech, video, other), its methods, its input and\n"
     "output token limits, and the price gemflow knows for it (workflows/prices.yaml).\n"
     "Use it to choose a model, and to move a workflow to a new one.\n"
     "\n"
     "options:\n"
     "  --kind KIND          only models for a stage of this kind: text, image, speech,\n"
     "                       video or other\n"
     "  --json               a JSON array: name, display_name, kind, methods,\n"
     "                       input_token_limit, output_token_limit, price\n"
     "  --endpoint URL       API base URL (default $GEMINI_BASE_URL, else\n"
     "                       https://generativelanguage.googleapis.com)\n"
     "  --api-key-file FILE  read the API key from FILE (must not be readable by others)\n"
     "  --prices FILE        another price table\n"
     "exit status: 0 listed, 1 the API did not answer, 2 usage error or the key refused\n",
     models_options},
    {"watch", cmd_watch, "turn scripts dropped into an inbox into jobs, as a service",
     "usage: gemflow watch [options] INBOX --jobs DIR\n"
     "\n"
     "Watch INBOX (inotify) and run each script dropped there as a job DIR/<name>/. A file\n"
     "*.txt, *.md or *.fountain is taken once it is closed after writing or moved in, and\n"
     "becomes DIR/<name>/script.txt; a directory moved in (script.txt, optionally\n"
     "workflow.yaml) becomes a job. Dotfiles, *~, *.swp, *.tmp, *.part and *.crdownload wait\n"
     "until renamed. A drop is claimed by an atomic rename, so several watchers may share one\n"
     "inbox; a taken job name gets a suffix (-2, -3, ...). Whoever writes the inbox is not\n"
     "trusted: the job is the watcher's own copy of the drop (regular files and directories,\n"
     "at most 128 MB and 2000 entries, a workflow.yaml at most 1 MB); symlinks, FIFOs,\n"
     "devices, hard links, names with control characters and scripts over 16 MB are moved to\n"
     "INBOX/.rejected/ with a .why file. A drop never chooses the endpoint: requests go to\n"
     "--endpoint, $GEMINI_BASE_URL, the endpoint of --workflow, or the default. At start,\n"
     "unfinished jobs in DIR are resumed (a job that failed to load only once its files\n"
     "changed) and what is in INBOX is taken.\n"
     "\n"
     "options:\n"
     "  --jobs DIR           where jobs go (same filesystem as INBOX); required\n"
     "  -j N                 run up to N jobs at once (default 4), being opened included\n"
     "  --grace DURATION     on SIGTERM/SIGINT, let calls in flight finish for this long\n"
     "                       (default 30s; 0 waits for them), then abandon them\n"
     "  --allow-job-workflows none|set|full\n"
     "                       what a drop's own workflow.yaml may do: none, refused; set\n"
     "                       (default), only 'use:' of this watcher's workflow (its name)\n"
     "                       and 'set:' of content fields (prompts inline, model, voice,\n"
     "                       style, language, aspect_ratio, image_size, temperature); full,\n"
     "                       a whole workflow of its own but no endpoint (trusted "
     "inboxes)\n" JOB_OPTIONS
     "                       (--workflow: the watcher's workflow, for every drop; --set\n"
     "                       applies to every job)\n" KEY_FILE_OPTION MODEL_OPTIONS
     "  -q, --quiet          print only failures\n"
     "  -v, --verbose        print every call, and drops that are ignored\n" QUOTA_OPTIONS "\n"
     "SIGTERM/SIGINT: claim nothing more, let calls in flight finish (up to --grace), mark\n"
     "the rest interrupted, exit 3; the next start resumes them. SIGHUP: load the workflow\n"
     "again; while it does not load, drops wait in the inbox.\n"
     "exit status: 2 usage or configuration error (also: the inbox was deleted, moved or\n"
     "unmounted), 3 stopped by a signal\n",
     watch_options},
};

const struct cli_command *cli_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

int cli_help(const char *name)
{
    const struct cli_command *c = cli_find(name);
    if (!c)
        return cli_usage_error(NULL, "'%s' is not a gemflow command; see 'gemflow --help'", name);
    fputs(c->usage, stdout);
    return GF_EXIT_OK;
}

static void main_help(FILE *f)
{
    fputs("usage: gemflow [--version] [--help] COMMAND [ARGS]\n"
          "\n"
          "Resumable, file-based Gemini workflows: a job is a directory, every API call is\n"
          "checkpointed, and nothing already paid for is requested again.\n"
          "\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (commands[i].summary) /* NULL: hidden (__complete) */
            fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\n'gemflow help COMMAND' or 'gemflow COMMAND --help' shows a command's options.\n"
          "exit status: 0 done, 1 a stage failed, 2 usage or configuration error, 3 interrupted,\n"
          "4 the job is locked by another process\n",
          f);
}

int main(int argc, char **argv)
{
    /* Replies with media are megabytes each and several arrive at once. A fixed mmap threshold
     * gives every large buffer its own mapping, returned to the system when freed; glibc's
     * default raises the threshold after the first free, and the freed megabytes then stay in
     * the heap (bench/run: peak RSS with 8 large images in flight). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    /* One heap for the worker threads too (workpool.c): a heap per thread kept each worker's
     * freed decode buffers out of the others' reach and nearly doubled that peak. */
    mallopt(M_ARENA_MAX, 1);
    if (argc < 2) {
        main_help(stderr);
        return GF_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        main_help(stdout);
        return GF_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("gemflow %s\n", GEMFLOW_VERSION);
        return GF_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc < 3) {
            main_help(stdout);
            return GF_EXIT_OK;
        }
        return cli_help(argv[2]);
    }
    const struct cli_command *c = cli_find(cmd);
    if (!c)
        return cli_usage_error(NULL, "'%s' is not a gemflow command; see 'gemflow --help'", cmd);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return cli_help(cmd);
    }
    return c->fn(argc - 1, argv + 1);
}
