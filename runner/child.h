/* child: running a program as a child process on the engine's event loop, for the local stages
 * (FFmpeg). The program is started from an argument vector (execve, never a shell) in a given
 * directory, with stdin from /dev/null, its own process group (a terminal's Ctrl-C reaches
 * gemflow, which decides), PR_SET_PDEATHSIG so it dies with gemflow, and gemflow's environment
 * without any credential: every variable named API_KEY or ending in "_API_KEY" (GEMINI_API_KEY,
 * GOOGLE_API_KEY and any other service's) is left out; FFmpeg needs none. Its stdout is handed
 * over line by line; the last lines of its stderr are kept. Its exit is noticed on the loop
 * through a pidfd (Linux 5.3+), else through both pipes reaching end of file.
 *
 * Calling sequence:
 *   struct child *c = child_spawn(loop, argv, dir, &hooks, &err);
 *   ... the loop calls hooks.line for each stdout line, then hooks.exited once ...
 *   child_free(c);            // in or after hooks.exited
 * child_kill(c) sends SIGKILL; hooks.exited still follows. */
#ifndef GF_CHILD_H
#define GF_CHILD_H

#include "buf.h"
#include "err.h"
#include "loop.h"

#include <stdbool.h>
#include <sys/types.h>

#define CHILD_STDERR_LINES 50 /* stderr lines kept */

struct child;

struct child_hooks {
    void *ctx;
    /* One line of the child's stdout, without its newline (may be NULL). */
    void (*line)(void *ctx, const char *line);
    /* The child has exited and its output is read; `status` is a wait(2) status. The hook may
     * free the child. */
    void (*exited)(void *ctx, struct child *c, int status);
};

/* Start argv[0] (a path, see child_find_program) with argv in directory `dir`. Returns NULL
 * with err when the program cannot be started (the exec failure is reported here, not as an
 * exit status). */
struct child *child_spawn(struct loop *l, const char *const *argv, const char *dir,
                          const struct child_hooks *hooks, struct gf_err *err);
/* SIGKILL the child (once it is running); hooks.exited follows on the loop. */
void child_kill(struct child *c);
pid_t child_pid(const struct child *c);
/* The last CHILD_STDERR_LINES lines of stderr (borrowed; valid until child_free). */
const char *child_stderr(const struct child *c);
/* Stop watching and free. A child still running is killed and reaped first. */
void child_free(struct child *c);

/* Run argv to its end without a loop (for `ffmpeg -version`): stdout and stderr together into
 * `out` (at most `max` bytes kept), the wait status into *status. Returns 0, or -1 with err when
 * it could not be started. */
int child_run(const char *const *argv, struct buf *out, size_t max, int *status,
              struct gf_err *err);

/* Whether an environment entry ("NAME=value") is a credential a child must not inherit: its
 * name is API_KEY or ends in "_API_KEY". */
bool child_env_is_secret(const char *entry);
/* The entries of `env` a child gets (the same strings, borrowed; the array is the caller's to
 * free): every one but the credentials. */
char **child_environment(char *const *env);

/* The full path of program `name` found on $PATH (an executable regular file), or NULL (caller
 * frees). */
char *child_find_program(const char *name);

/* "exit status 1", "killed by signal 9 (Killed)" for a wait status (static buffer). */
const char *child_status_text(int status);

#endif
