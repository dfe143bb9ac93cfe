/* cli: option and key handling shared by the gemflow commands. */
#include "cli.h"
#include "buf.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
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
    case OPT_TIER:
        if (strcmp(arg, "flex") != 0 && strcmp(arg, "standard") != 0 &&
            strcmp(arg, "priority") != 0)
            return -1;
        jc->job.wf.service_tier = arg;
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

static char *key_from_file(const char *path, struct gf_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        gf_error_errno(err, GF_ERR_CONFIG, "cannot open API key file '%s'", path);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        gf_error(err, GF_ERR_CONFIG, "API key file '%s' is not a regular file", path);
        return NULL;
    }
    if (st.st_mode & 0077) {
        close(fd);
        gf_error(err, GF_ERR_CONFIG,
                 "warning: API key file '%s' can be read by other users (mode %04o); refusing to "
                 "use it. Run: chmod 600 '%s'",
                 path, (unsigned)(st.st_mode & 07777), path);
        return NULL;
    }
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) {
        gf_error_errno(err, GF_ERR_CONFIG, "cannot read API key file '%s'", path);
        return NULL;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    char *key = xstrdup(buf);
    memset(buf, 0, sizeof buf);
    if (!key_is_sane(key)) {
        free(key);
        gf_error(err, GF_ERR_CONFIG, "API key file '%s' does not hold a key on its first line",
                 path);
        return NULL;
    }
    return key;
}

char *cli_api_key(const char *key_file, struct gf_err *err)
{
    if (key_file)
        return key_from_file(key_file, err);
    const char *names[] = {"GEMINI_API_KEY", "GOOGLE_API_KEY"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        const char *v = getenv(names[i]);
        if (v && v[0]) {
            if (!key_is_sane(v)) {
                gf_error(err, GF_ERR_CONFIG, "$%s holds characters an API key cannot have",
                         names[i]);
                return NULL;
            }
            return xstrdup(v);
        }
    }
    gf_error(err, GF_ERR_CONFIG,
             "no API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), or pass --api-key-file FILE; "
             "get a key at https://aistudio.google.com/apikey");
    return NULL;
}
