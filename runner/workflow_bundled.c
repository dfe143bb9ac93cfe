/* workflow_bundled: finding the workflows installed with gemflow (`use: NAME`, the default
 * workflow of a job), and naming them when a name is unknown. */
#include "util.h"
#include "workflow_int.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The directories bundled workflows are looked up in, in order (caller frees each and the
 * array): $GEMFLOW_WORKFLOWS (':'-separated), beside the executable (the build tree's
 * `workflows` link), ../share/gemflow/workflows from it (a relocated install), GEMFLOW_DATADIR
 * (the install prefix). No source-tree path is compiled in. */
static char **bundled_dirs(size_t *n)
{
    char **dirs = NULL;
    size_t cap = 0;
    *n = 0;
    const char *env = getenv("GEMFLOW_WORKFLOWS");
    if (env && *env) {
        char *copy = xstrdup(env), *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
            *VEC_PUSH(dirs, *n, cap) = xstrdup(d);
        free(copy);
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *dir = wfl_dirname(exe);
        *VEC_PUSH(dirs, *n, cap) = xasprintf("%s/workflows", dir);
        *VEC_PUSH(dirs, *n, cap) = xasprintf("%s/../share/gemflow/workflows", dir);
        free(dir);
    }
#ifdef GEMFLOW_DATADIR
    *VEC_PUSH(dirs, *n, cap) = xstrdup(GEMFLOW_DATADIR "/workflows");
#endif
    return dirs;
}

static void free_dirs(char **dirs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(dirs[i]);
    free(dirs);
}

bool wfl_is_bundled_name(const char *name)
{
    return *name && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(name);
}

int workflow_find_bundled(const char *name, struct buf *path)
{
    if (!wfl_is_bundled_name(name))
        return -1;
    size_t n;
    char **dirs = bundled_dirs(&n);
    int rc = -1;
    for (size_t i = 0; i < n && rc < 0; i++) {
        char *p = xasprintf("%s/%s.yaml", dirs[i], name);
        if (access(p, R_OK) == 0) {
            char *real = realpath(p, NULL);
            buf_reset(path);
            buf_adds(path, real ? real : p);
            free(real);
            rc = 0;
        }
        free(p);
    }
    free_dirs(dirs, n);
    return rc;
}

/* " (did you mean 'x'?)" or " (bundled: a, b)" for an unknown bundled workflow `name`. */
void wfl_add_bundled_names(const char *name, struct buf *b)
{
    size_t n, n_names = 0, cap = 0;
    char **dirs = bundled_dirs(&n), **names = NULL;
    for (size_t i = 0; i < n; i++) {
        DIR *d = opendir(dirs[i]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (len <= 5 || !str_ends_with(e->d_name, ".yaml"))
                continue;
            char *base = xstrndup(e->d_name, len - 5);
            bool seen = !wfl_is_bundled_name(base);
            for (size_t k = 0; k < n_names && !seen; k++)
                seen = strcmp(names[k], base) == 0;
            if (seen)
                free(base);
            else
                *VEC_PUSH(names, n_names, cap) = base;
        }
        if (d)
            closedir(d);
    }
    const char *s = wfl_suggest(name, (const char *const *)names, n_names);
    if (s) {
        buf_addf(b, " (did you mean '%s'?)", s);
    } else if (n_names) {
        buf_adds(b, " (bundled: ");
        wfl_add_list(b, (const char *const *)names, n_names);
        buf_addc(b, ')');
    } else {
        buf_adds(b, " (no bundled workflows found: set GEMFLOW_WORKFLOWS)");
    }
    free_dirs(names, n_names);
    free_dirs(dirs, n);
}
