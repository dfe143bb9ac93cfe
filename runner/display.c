/* display: what a running gemflow prints on stderr (see display.h): notes, a line per call when
 * verbose, and on a terminal the live bars, drawn in whole frames at most 10 times a second. */
#include "display_int.h"
#include "jsonutil.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MS    100  /* at most 10 frames a second */
#define REFRESH_MS  1000 /* redraw this often while bars are shown, for the ETA */
#define HIDE_CURSOR "\x1b[?25l"
#define SHOW_CURSOR "\x1b[?25h"

static struct display *current; /* the process's display */

/* Signal state: a terminal whose cursor we hid (restored at exit and on SIGTSTP). SIGWINCH and
 * SIGCONT reach the display through the event loop's signal facility (loop_on_signal). */
static volatile sig_atomic_t hidden_fd = -1;
static bool handlers_set, atexit_set;
static struct sigaction old_tstp;

static void write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            if (poll(&pfd, 1, 1000) <= 0)
                return; /* a terminal that does not drain: drop rather than hang */
        } else if (n < 0 && errno != EINTR) {
            return;
        }
    }
}

static void show_cursor_at_exit(void)
{
    if (hidden_fd >= 0) {
        ssize_t n = write(hidden_fd, SHOW_CURSOR, sizeof SHOW_CURSOR - 1);
        (void)n;
        hidden_fd = -1;
    }
}

/* Ctrl-Z: show the cursor, stop for real, and on return ask for a redraw (which hides it). */
static void on_tstp(int sig)
{
    int saved = errno;
    int fd = hidden_fd;
    if (fd >= 0) {
        ssize_t n = write(fd, SHOW_CURSOR, sizeof SHOW_CURSOR - 1);
        (void)n;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGTSTP, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTSTP);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(SIGTSTP);
    /* continued: SIGCONT, delivered too, asks the loop for a redraw (which hides it again) */
    sa.sa_handler = on_tstp;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTSTP, &sa, NULL);
    errno = saved;
}

static void set_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_tstp;
    sigaction(SIGTSTP, &sa, &old_tstp);
    handlers_set = true;
    if (!atexit_set && atexit(show_cursor_at_exit) == 0)
        atexit_set = true;
}

static void reset_handlers(void)
{
    if (!handlers_set)
        return;
    sigaction(SIGTSTP, &old_tstp, NULL);
    handlers_set = false;
}

static bool locale_is_utf8(void)
{
    const char *v = getenv("LC_ALL");
    if (!v || !*v)
        v = getenv("LC_CTYPE");
    if (!v || !*v)
        v = getenv("LANG");
    return v && (strcasestr(v, "utf-8") || strcasestr(v, "utf8"));
}

struct display *display_new(const struct display_opts *opts)
{
    struct display *d = xcalloc(1, sizeof *d);
    d->o = *opts;
    bool tty = isatty(d->o.fd) == 1;
    d->live =
        d->o.verbosity >= 0 && (d->o.mode == DISPLAY_LIVE || (d->o.mode == DISPLAY_AUTO && tty));
    const char *no_color = getenv("NO_COLOR");
    d->color = d->o.color == TX_COLOR_ALWAYS ||
               (d->o.color == TX_COLOR_AUTO && (tty || d->o.mode == DISPLAY_LIVE) &&
                !(no_color && no_color[0]));
    d->utf8 = locale_is_utf8();
    d->pending = (struct buf)BUF_INIT;
    if (d->live)
        set_handlers();
    if (!current)
        current = d;
    return d;
}

bool display_is_live(const struct display *d)
{
    return d->live;
}

static void term_size(const struct display *d, size_t *cols, size_t *rows)
{
    struct winsize ws;
    *cols = 80;
    *rows = 24;
    if (ioctl(d->o.fd, TIOCGWINSZ, &ws) == 0) {
        if (ws.ws_col > 0)
            *cols = ws.ws_col;
        if (ws.ws_row > 0)
            *rows = ws.ws_row;
    }
}

/* One frame, in one write: hide the cursor, go back to the top of the bars drawn last time,
 * print the pending lines, overwrite the bars line by line, clear what is left below. No line
 * is erased before it is rewritten, so nothing flickers. */
static void frame(struct display *d, int64_t now)
{
    size_t cols, rows;
    term_size(d, &cols, &rows);
    struct dlines ls = {0};
    for (size_t j = 0; j < d->n_jobs; j++)
        display_draw_job(d, &d->jobs[j], now, cols - 1, NULL, 0, &ls);
    size_t max_lines = rows > 3 ? rows - 2 : 1;
    struct buf out = BUF_INIT;
    buf_adds(&out, HIDE_CURSOR);
    /* rows the old bars take now: a narrower terminal may have wrapped them */
    size_t up = 0;
    for (size_t i = 0; i < d->n_drawn; i++)
        up += d->drawn_w[i] ? (d->drawn_w[i] + cols - 1) / cols : 1;
    if (up)
        buf_addf(&out, "\r\x1b[%zuA", up);
    if (d->pending.len) {
        buf_adds(&out, "\x1b[J");
        buf_add(&out, d->pending.data, d->pending.len);
        buf_reset(&d->pending);
    }
    d->n_drawn = 0;
    for (size_t i = 0; i < ls.n && i < max_lines; i++) {
        struct dline *l = &ls.v[i];
        if (i + 1 == max_lines && ls.n > max_lines) {
            buf_reset(&l->b);
            l->w = 0;
            dline_add(d, l, DC_DIM, "... %zu more lines (a taller terminal shows them)", ls.n - i);
            dline_fit(d, l, cols - 1);
        }
        buf_add(&out, l->b.data, l->b.len);
        buf_adds(&out, "\x1b[K\n");
        *VEC_PUSH(d->drawn_w, d->n_drawn, d->cap_drawn) = l->w;
    }
    buf_adds(&out, "\x1b[J");
    d->cursor_hidden = d->n_drawn > 0;
    if (!d->cursor_hidden)
        buf_adds(&out, SHOW_CURSOR);
    hidden_fd = d->cursor_hidden ? d->o.fd : -1;
    write_all(d->o.fd, out.data, out.len);
    buf_release(&out);
    dlines_release(&ls);
    d->last_frame = now;
    d->framed = true;
    d->dirty = false;
}

int64_t display_tick(struct display *d, int64_t now)
{
    if (!d->live)
        return -1;
    bool changed = d->dirty || d->pending.len > 0;
    if (!changed && d->n_drawn == 0 && d->n_jobs == 0)
        return -1;
    int64_t due = changed ? FRAME_MS : REFRESH_MS;
    int64_t since = d->framed ? now - d->last_frame : due;
    if (since < due)
        return due - since;
    frame(d, now);
    return d->n_jobs ? REFRESH_MS : -1;
}

static void note(struct display *d, const char *job, int level, const char *msg)
{
    if (level > d->o.verbosity)
        return;
    char ts[40];
    now_rfc3339(ts, sizeof ts);
    struct dline l = {BUF_INIT, 0};
    dline_add(d, &l, DC_DIM, "%.8s", ts + 11);
    dline_add(d, &l, NULL, " gemflow: ");
    if (job)
        dline_add(d, &l, NULL, "%s: ", job);
    const char *sgr = level < 0 ? DC_RED : NULL;
    if (level < 0 && job && d->ended_job && strcmp(job, d->ended_job) == 0) {
        /* the final line of a job: coloured by how it ended */
        sgr = strcmp(d->ended_state, "done") == 0     ? DC_GREEN
              : strcmp(d->ended_state, "failed") == 0 ? DC_RED
                                                      : DC_YEL;
        free(d->ended_job);
        d->ended_job = NULL;
    }
    dline_add(d, &l, sgr, "%s", msg);
    buf_addc(&l.b, '\n');
    if (d->live) {
        buf_add(&d->pending, l.b.data, l.b.len);
        d->dirty = true;
    } else {
        write_all(d->o.fd, l.b.data, l.b.len);
    }
    buf_release(&l.b);
}

bool display_note(const char *job, int level, const char *msg)
{
    if (!current)
        return false;
    note(current, job, level, msg);
    return true;
}

static struct djob *find_job(struct display *d, const struct job *job, bool add)
{
    for (size_t j = 0; j < d->n_jobs; j++) {
        if (d->jobs[j].job == job)
            return &d->jobs[j];
    }
    if (!add)
        return NULL;
    struct djob *dj = VEC_PUSH(d->jobs, d->n_jobs, d->cap_jobs);
    dj->job = job;
    dj->stage_ms = xcalloc(job->wf.n_stages ? job->wf.n_stages : 1, sizeof *dj->stage_ms);
    for (size_t s = 0; s < job->wf.n_stages; s++)
        dj->stage_ms[s] = -1;
    return dj;
}

/* run_end: the job's bars, in their final state, become ordinary lines above the others. */
static void end_job(struct display *d, struct djob *dj, const cJSON *ev)
{
    const char *state = json_str(ev, "state");
    state = state ? state : "ended";
    if (d->live) {
        size_t cols, rows;
        term_size(d, &cols, &rows);
        struct dlines ls = {0};
        display_draw_job(d, dj, now_ms(), cols - 1, state, (int64_t)json_num(ev, "ms", 0), &ls);
        for (size_t i = 0; i < ls.n; i++) {
            buf_add(&d->pending, ls.v[i].b.data, ls.v[i].b.len);
            buf_addc(&d->pending, '\n');
        }
        dlines_release(&ls);
    }
    free(d->ended_job);
    d->ended_job = xstrdup(dj->job->name);
    snprintf(d->ended_state, sizeof d->ended_state, "%s", state);
    free(dj->stage_ms);
    size_t j = (size_t)(dj - d->jobs);
    memmove(dj, dj + 1, (d->n_jobs - j - 1) * sizeof *dj);
    d->n_jobs--;
}

/* --verbose: a line per call start and end, and (without bars) per progress event. */
static void verbose_line(struct display *d, const struct job *job, const char *name,
                         const cJSON *ev)
{
    const char *stage = json_str(ev, "stage"), *item = json_str(ev, "item");
    struct buf m = BUF_INIT;
    if (strcmp(name, "call_start") == 0) {
        buf_addf(&m, "%s/%s: calling %s (attempt %d)", stage, item, json_str(ev, "model"),
                 (int)json_num(ev, "attempt", 1));
    } else if (strcmp(name, "call_end") == 0) {
        long status = (long)json_num(ev, "http_status", 0);
        buf_addf(&m, "%s/%s: ", stage, item);
        if (status > 0)
            buf_addf(&m, "HTTP %ld", status);
        else
            buf_adds(&m, "no HTTP reply");
        buf_addf(&m, " in %.2fs", json_num(ev, "ms", 0) / 1000.0);
        double tokens = json_num(json_field(ev, "tokens"), "total", -1);
        if (tokens >= 0)
            buf_addf(&m, ", %.0f tokens", tokens);
        const char *finish = json_str(ev, "finish_reason");
        if (finish)
            buf_addf(&m, ", finish %s", finish);
        const char *error = json_str(ev, "error");
        if (error)
            buf_addf(&m, ": %s", error);
    } else if (strcmp(name, "progress") == 0 && !d->live) {
        buf_addf(&m, "progress %.1f%%, %.0f/%s%.0f items", json_num(ev, "percent", 0),
                 json_num(ev, "finished", 0), cJSON_IsTrue(json_field(ev, "estimated")) ? "~" : "",
                 json_num(ev, "total", 0));
        const cJSON *eta = json_field(ev, "eta_s");
        if (cJSON_IsNumber(eta))
            buf_addf(&m, ", eta %.1fs", eta->valuedouble);
    }
    if (m.len)
        note(d, job->name, 1, m.data);
    buf_release(&m);
}

void display_event(struct display *d, const struct job *job, const char *name, const cJSON *ev)
{
    if (strcmp(name, "run_end") == 0) {
        struct djob *dj = find_job(d, job, false);
        if (dj)
            end_job(d, dj, ev);
        d->dirty = true;
        return;
    }
    struct djob *dj = find_job(d, job, true);
    if (strcmp(name, "stage_done") == 0 || strcmp(name, "stage_failed") == 0) {
        int s = workflow_stage_index(&job->wf, json_str(ev, "stage"));
        if (s >= 0)
            dj->stage_ms[s] = (int64_t)json_num(ev, "ms", 0);
    }
    if (d->o.verbosity >= 1)
        verbose_line(d, job, name, ev);
    d->dirty = true;
}

static void hook_event(void *ctx, const struct job *job, const char *name, const cJSON *ev)
{
    display_event(ctx, job, name, ev);
}

static int64_t hook_tick(void *ctx, int64_t now)
{
    return display_tick(ctx, now);
}

void display_hooks(struct display *d, struct engine_hooks *h)
{
    h->ctx = d;
    h->event = hook_event;
    h->tick = hook_tick;
}

/* SIGWINCH (a new size) and SIGCONT (back from Ctrl-Z): draw again. */
static void on_redraw_signal(void *ctx, int signo)
{
    struct display *d = ctx;
    (void)signo;
    d->dirty = true;
}

void display_watch_signals(struct display *d, struct loop *loop)
{
    if (!d->live || d->loop)
        return;
    d->loop = loop;
    /* without them the bars still follow the size at the next redraw */
    loop_on_signal(loop, SIGWINCH, on_redraw_signal, d);
    loop_on_signal(loop, SIGCONT, on_redraw_signal, d);
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void display_free(struct display *d)
{
    if (!d)
        return;
    if (d->live && (d->pending.len || d->n_drawn || d->dirty)) {
        /* the last frame keeps to the rate too */
        int64_t wait = d->framed ? d->last_frame + FRAME_MS - now_ms() : 0;
        if (wait > 0)
            sleep_ms(wait);
        frame(d, now_ms());
    }
    if (d->cursor_hidden) {
        /* bars left on screen (a job that never ended): keep them, give the cursor back */
        write_all(d->o.fd, SHOW_CURSOR, sizeof SHOW_CURSOR - 1);
        hidden_fd = -1;
    }
    if (d->loop) {
        loop_off_signal(d->loop, SIGWINCH);
        loop_off_signal(d->loop, SIGCONT);
    }
    if (d->live)
        reset_handlers();
    for (size_t j = 0; j < d->n_jobs; j++)
        free(d->jobs[j].stage_ms);
    free(d->jobs);
    buf_release(&d->pending);
    free(d->drawn_w);
    progress_release(&d->prog);
    free(d->ended_job);
    if (current == d)
        current = NULL;
    free(d);
}
