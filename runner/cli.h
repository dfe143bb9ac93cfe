/* cli: the gemflow command line: the command table (main.c), one cmd_* per command, and the
 * option helpers they share. Only main() and cmd_*() turn errors into exit codes. */
#ifndef GF_CLI_H
#define GF_CLI_H

#include "err.h"
#include "job.h"
#include "textout.h"

#include <stddef.h>
#include <stdio.h>

struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary; /* one line for `gemflow --help` */
    const char *usage;   /* the full help of `gemflow help CMD` */
    const int *options;  /* the options it accepts (enum cli_opt_id, 0-terminated), for
                          * cli_parse; its usage names each (tests/e2e/t_help.sh checks) */
};

int cmd_run(int argc, char **argv);
int cmd_rerun(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_models(int argc, char **argv); /* cmd_models.c: what the key can use */
int cmd_watch(int argc, char **argv);  /* cmd_watch.c: the inbox watcher */
int cmd_quota(int argc, char **argv);  /* cmd_quota.c: the shared quota directory */
/* inspection: cmd_log.c, cmd_inspect.c, cmd_accept.c, cmd_report.c, cmd_complete.c */
int cmd_log(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_accept(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_complete(int argc, char **argv);

const struct cli_command *cli_find(const char *name);
/* Print a command's help to stdout (exit 0) or a usage error to stderr (exit 2). */
int cli_help(const char *name);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Options shared by the commands that open jobs. */
struct job_cli {
    struct job_opts job;
    const char **sets;
    size_t n_sets, cap_sets;
    const char *api_key_file;
    int verbosity;
    const char *quota_dir;    /* --quota-dir (run, rerun, watch); NULL: the default */
    bool no_wait_quota;       /* --no-wait-quota */
    enum tx_color_mode color; /* --color[=WHEN], --no-color */
};

/* Every option of every command, by id: the shared ones (job_cli_option handles them, and the
 * colour options) and each command's own (its `own` callback of cli_parse). Short options are
 * their letter. */
enum cli_opt_id {
    OPT_QUIET = 'q',
    OPT_VERBOSE = 'v',
    OPT_FOLLOW = 'f',
    OPT_MAX_JOBS = 'j',
    OPT_SET = 0x100,
    OPT_WORKFLOW,
    OPT_ENDPOINT,
    OPT_API_KEY_FILE,
    OPT_JSON,
    OPT_NO_MODEL_CHECK,
    OPT_STRICT_MODELS,
    OPT_TIER,
    OPT_COLOR,
    OPT_NO_COLOR,
    OPT_PRICES,
    OPT_KIND,
    OPT_RAW,
    OPT_JOBS,
    OPT_GRACE,
    OPT_ALLOW,
    OPT_MAX_COST,
    OPT_QUOTA_DIR,
    OPT_NO_WAIT_QUOTA,
};

/* The option sets of the commands, 0-terminated lists of ids, for cli_parse. */
#define CLI_JOB_OPTS   OPT_SET, OPT_WORKFLOW, OPT_ENDPOINT
#define CLI_COLOR_OPTS OPT_COLOR, OPT_NO_COLOR
/* A command's own option: 0 when taken, -1 with *why (a message for the usage error). */
typedef int (*cli_own_fn)(void *ctx, int id, const char *arg, char *why, size_t why_len);
/* Parse argv (argv[0] the command's name) for command `cmd`, which accepts the options of its
 * entry in the command table (cli_command.options): shared ones go to `jc` (may be NULL when the
 * command takes none), the colour options to jc->color, the command's own to `own`. The same
 * mistake gets the same message in every command: "unknown option '--x'", "option '--set' needs
 * a value", "--tier takes flex, standard or priority, got 'x'". Returns 0 with optind at the
 * first operand, or GF_EXIT_USAGE after printing the usage error. */
int cli_parse(const char *cmd, int argc, char **argv, struct job_cli *jc, cli_own_fn own,
              void *ctx);
/* Print the options command `cmd` accepts, one a line as typed ("--tier", "-q"), followed by
 * " VALUE" when the next word is its value: `gemflow __complete options CMD`, which the shell
 * completion and tests/e2e/t_help.sh read. Returns -1 when `cmd` is no command. */
int cli_print_options(const char *cmd, FILE *f);

/* Handle one shared option; returns 1 when it was one, 0 when not, -1 when its value is bad
 * (job_cli_problem says why). */
int job_cli_option(struct job_cli *jc, int opt, const char *arg);
/* What is wrong with the value of option `opt` ("--set needs KEY=VALUE, got 'x'"), in a static
 * buffer. */
const char *job_cli_problem(int opt, const char *arg);
void job_cli_release(struct job_cli *jc);
/* A usage error (returns GF_EXIT_USAGE) when two of the job directories are the same
 * directory (by device and inode, so "j", "./j" and a symlink to it are one); else 0. */
int cli_jobs_distinct(const char *cmd, char *const *dirs, size_t n);
/* Print diagnostics then the error; returns the exit code for it. */
int cli_report_open_error(const struct diag_list *dl, const struct gf_err *err);
/* job_open, its diagnostics and error printed as above on failure. Returns 0, or the exit code
 * with `err` (may be NULL) still holding the error. */
int cli_open_job(struct job *job, const char *dir, const struct job_opts *opts, enum job_mode mode,
                 struct gf_err *err);

/* The API key: --api-key-file, else $GEMINI_API_KEY, else $GOOGLE_API_KEY. Returns a new
 * string in key memory (keymem.h: never in a core dump; the process is not dumpable while it
 * is held) that the caller releases with cli_api_key_free; or NULL with err (GF_ERR_CONFIG,
 * exit 2). A key file is read straight into that memory, so the key is there once; it must be
 * a regular file of the effective user, not a symbolic link, without any group or other
 * permission bit, at most 1 KiB; a FIFO is refused without waiting for a writer. */
char *cli_api_key(const char *key_file, struct gf_err *err);
/* Wipe and free a key from cli_api_key; NULL is a no-op. */
void cli_api_key_free(char *key);

#endif
