/* cli: option and key handling shared by the gemflow commands. */
#include "cli.h"
#include "buf.h"
#include "keymem.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gemflow: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "see 'gemflow %s --help'\n", cmd);
    return GF_EXIT_USAGE;
}

int job_cli_option(struct job_cli *jc, int opt, const char *arg)
{
    switch (opt) {
    case OPT_SET:
        if (!strchr(arg, '='))
            return -1;
        *VEC_PUSH(jc->sets, jc->n_sets, jc->cap_sets) = arg;
        jc->job.wf.sets = jc->sets;
        jc->job.wf.n_sets = jc->n_sets;
        return 1;
    case OPT_WORKFLOW:
        jc->job.wf.workflow_path = arg;
        return 1;
    case OPT_ENDPOINT:
        jc->job.endpoint = arg;
        return 1;
    case OPT_API_KEY_FILE:
        jc->api_key_file = arg;
        return 1;
    case OPT_NO_MODEL_CHECK:
        jc->job.no_model_check = true;
        return 1;
    case OPT_STRICT_MODELS:
        jc->job.strict_models = true;
        return 1;
    case OPT_ALLOW: /* what gemflow watch lets a drop's workflow.yaml do */
        return workflow_trust_parse(arg, &jc->job.wf.trust) == 0 ? 1 : -1;
    case OPT_TIER:
        if (strcmp(arg, "flex") != 0 && strcmp(arg, "standard") != 0 &&
            strcmp(arg, "priority") != 0)
            return -1;
        jc->job.wf.service_tier = arg;
        return 1;
    case OPT_MAX_COST: {
        char *end;
        errno = 0;
        double usd = strtod(arg, &end);
        if (end == arg || *end || errno || !isfinite(usd) || usd <= 0)
            return -1;
        jc->job.max_cost = usd;
        return 1;
    }
    case OPT_QUOTA_DIR:
        if (!*arg)
            return -1;
        jc->quota_dir = arg;
        return 1;
    case OPT_NO_WAIT_QUOTA:
        jc->no_wait_quota = true;
        return 1;
    case 'q':
        jc->verbosity = -1;
        return 1;
    case 'v':
        jc->verbosity = 1;
        return 1;
    }
    return 0;
}

const char *job_cli_problem(int opt, const char *arg)
{
    static char msg[256];
    if (opt == OPT_TIER)
        snprintf(msg, sizeof msg, "--tier takes flex, standard or priority, got '%s'", arg);
    else if (opt == OPT_MAX_COST)
        snprintf(msg, sizeof msg, "--max-cost takes an amount of US dollars above 0, got '%s'",
                 arg);
    else if (opt == OPT_QUOTA_DIR)
        snprintf(msg, sizeof msg, "--quota-dir needs a directory, got an empty string");
    else if (opt == OPT_ALLOW)
        snprintf(msg, sizeof msg, "--allow-job-workflows takes none, set or full, got '%s'", arg);
    else
        snprintf(msg, sizeof msg, "--set needs KEY=VALUE, got '%s'", arg);
    return msg;
}

void job_cli_release(struct job_cli *jc)
{
    free(jc->sets);
    jc->sets = NULL;
}

int cli_jobs_distinct(const char *cmd, char *const *dirs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct stat a, b;
        if (stat(dirs[i], &a) < 0)
            continue; /* job_open says what is wrong with it */
        for (size_t k = 0; k < i; k++) {
            if (stat(dirs[k], &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                return cli_usage_error(cmd, "job '%s' is given twice (as '%s' and '%s')", dirs[i],
                                       dirs[k], dirs[i]);
        }
    }
    return 0;
}

int cli_report_open_error(const struct diag_list *dl, const struct gf_err *err)
{
    for (size_t i = 0; i < dl->n; i++) {
        char *s = diag_format(&dl->v[i]);
        fprintf(stderr, "%s\n", s);
        free(s);
    }
    fprintf(stderr, "gemflow: %s\n", err->msg);
    return gf_err_exit_code(err);
}

int cli_open_job(struct job *job, const char *dir, const struct job_opts *opts, enum job_mode mode,
                 struct gf_err *err)
{
    struct diag_list dl = DIAG_LIST_INIT;
    struct gf_err local = GF_ERR_INIT;
    if (!err)
        err = &local;
    int rc = job_open(job, dir, opts, mode, &dl, err) < 0 ? cli_report_open_error(&dl, err) : 0;
    diag_list_release(&dl);
    return rc;
}

static int key_is_sane(const char *k)
{
    if (!k[0])
        return 0;
    for (const char *p = k; *p; p++) {
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return 0;
    }
    return 1;
}

#define KEY_FILE_MAX 1024 /* a key file is a key and a newline; larger is not one */

/* Read the key file into `key` (KEYMEM_SIZE bytes): its first line, and nothing else of it
 * anywhere in memory. Refused: a symbolic link, anything but a regular file (a FIFO is opened
 * without waiting for a writer), a file of another user, one with any group or other permission
 * bit, one larger than KEY_FILE_MAX. */
static int read_key_file(const char *path, char *key, struct gf_err *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 && errno == ELOOP)
        return gf_error(err, GF_ERR_CONFIG,
                        "API key file '%s' is a symbolic link: refusing it (name the file itself)",
                        path);
    if (fd < 0)
        return gf_error_errno(err, GF_ERR_CONFIG, "cannot open API key file '%s'", path);
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) < 0)
        gf_error_errno(err, GF_ERR_CONFIG, "cannot stat API key file '%s'", path);
    else if (!S_ISREG(st.st_mode))
        gf_error(err, GF_ERR_CONFIG, "API key file '%s' is not a regular file", path);
    else if (st.st_uid != geteuid())
        gf_error(err, GF_ERR_CONFIG,
                 "API key file '%s' belongs to uid %u, not to this user (uid %u); refusing to use "
                 "it",
                 path, (unsigned)st.st_uid, (unsigned)geteuid());
    else if (st.st_mode & 0077)
        gf_error(err, GF_ERR_CONFIG,
                 "API key file '%s' can be read by other users (mode %04o); refusing to use it. "
                 "Run: chmod 600 '%s'",
                 path, (unsigned)(st.st_mode & 07777), path);
    else if (st.st_size > KEY_FILE_MAX)
        gf_error(err, GF_ERR_CONFIG,
                 "API key file '%s' is too large to be a key file (%lld bytes, more than %d)", path,
                 (long long)st.st_size, KEY_FILE_MAX);
    else
        rc = 0;
    size_t len = 0;
    while (rc == 0 && len <= KEY_FILE_MAX) { /* straight into the key's own memory */
        ssize_t n = read(fd, key + len, (size_t)KEY_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = gf_error_errno(err, GF_ERR_CONFIG, "cannot read API key file '%s'", path);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (rc == 0 && len > KEY_FILE_MAX)
        rc = gf_error(err, GF_ERR_CONFIG, "API key file '%s' grew past %d bytes while read", path,
                      KEY_FILE_MAX);
    size_t line = strcspn(key, "\r\n");
    explicit_bzero(key + line, KEYMEM_SIZE - line); /* the rest of the file: not kept */
    if (rc == 0 && !key_is_sane(key))
        rc = gf_error(err, GF_ERR_CONFIG, "API key file '%s' does not hold a key on its first line",
                      path);
    return rc;
}

char *cli_api_key(const char *key_file, struct gf_err *err)
{
    if (key_file) {
        char *key = keymem_alloc(KEYMEM_SIZE);
        if (read_key_file(key_file, key, err) == 0)
            return key;
        keymem_free(key);
        return NULL;
    }
    const char *names[] = {"GEMINI_API_KEY", "GOOGLE_API_KEY"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        const char *v = getenv(names[i]);
        if (v && v[0]) {
            if (!key_is_sane(v)) {
                gf_error(err, GF_ERR_CONFIG, "$%s holds characters an API key cannot have",
                         names[i]);
                return NULL;
            }
            if (strlen(v) >= KEYMEM_SIZE) {
                gf_error(err, GF_ERR_CONFIG, "$%s is too long to be an API key", names[i]);
                return NULL;
            }
            char *key = keymem_alloc(KEYMEM_SIZE);
            memcpy(key, v, strlen(v) + 1);
            return key;
        }
    }
    gf_error(err, GF_ERR_CONFIG,
             "no API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), or pass --api-key-file FILE; "
             "get a key at https://aistudio.google.com/apikey");
    return NULL;
}

void cli_api_key_free(char *key)
{
    keymem_free(key);
}
