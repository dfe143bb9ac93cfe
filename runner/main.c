/* gemflow: resumable Gemini media workflows. The command table and the top-level help. */
#include "cli.h"
#include "err.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define JOB_OPTIONS                                                                                \
    "  --set K=V            override a workflow field (repeatable), e.g. --set images.model=X\n"   \
    "  --workflow FILE      use this workflow instead of JOB/workflow.yaml or the default\n"       \
    "  --endpoint URL       API base URL (default $GEMINI_BASE_URL, the workflow's endpoint,\n"    \
    "                       else https://generativelanguage.googleapis.com)\n"

static const struct cli_command commands[] = {
    {"run", cmd_run, "run or resume jobs; done items are skipped",
     "usage: gemflow run [options] JOB...\n"
     "\n"
     "Run each job directory to the end, resuming where it stopped. Items whose request is\n"
     "unchanged and whose artifact is on disk are not called again. Without JOB/workflow.yaml\n"
     "a job runs the bundled 'script-to-media' workflow on JOB/script.txt.\n"
     "\n"
     "options:\n" JOB_OPTIONS
     "  --api-key-file FILE  read the API key from FILE (must not be readable by others)\n"
     "  -q, --quiet          print only failures and the final line\n"
     "  -v, --verbose        print every call\n"
     "\n"
     "The API key comes from --api-key-file, $GEMINI_API_KEY or $GOOGLE_API_KEY.\n"
     "exit status: 0 done, 1 a stage failed, 2 usage or configuration error,\n"
     "3 interrupted, 4 the job is locked by another process\n"},
    {"rerun", cmd_rerun, "regenerate stages (and what depends on them)",
     "usage: gemflow rerun [options] JOB [STAGE...]\n"
     "\n"
     "Regenerate every item of the named stages, also hand-edited ones, then run the rest of\n"
     "the job; stages downstream are redone where their request changes. Without STAGE, redo\n"
     "what failed (the same as run).\n"
     "\n"
     "options: as for 'gemflow run'\n"},
    {"plan", cmd_plan, "show what a run would call, and why; calls nothing",
     "usage: gemflow plan [options] JOB...\n"
     "\n"
     "For every stage: its items, which are cached, which would be called and why (new,\n"
     "request changed, output missing, failed last time). Stages whose input does not exist\n"
     "yet are shown as 'after STAGE'. Needs no API key and changes nothing.\n"
     "\n"
     "options:\n" JOB_OPTIONS},
    {"status", cmd_status, "show the state of jobs",
     "usage: gemflow status [options] JOB... | --jobs DIR\n"
     "\n"
     "Per stage: state, items done/failed/total, edited artifacts, and for a failure the\n"
     "item and the API's message.\n"
     "\n"
     "options:\n"
     "  --jobs DIR           every job directory under DIR\n"},
    {"validate", cmd_validate, "check a workflow file and report every error",
     "usage: gemflow validate [--set K=V]... WORKFLOW|JOB\n"
     "\n"
     "Load a workflow (a file, or a job directory's workflow) and report every problem as\n"
     "file:line:column: message. exit status: 0 valid, 2 errors found.\n"},
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
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'gemflow help COMMAND' or 'gemflow COMMAND --help' shows a command's options.\n"
          "exit status: 0 done, 1 a stage failed, 2 usage or configuration error, 3 interrupted,\n"
          "4 the job is locked by another process\n",
          f);
}

int main(int argc, char **argv)
{
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
