/* display_draw: the text of the live bars: a header line per job (bar, percent, items, calls in
 * flight, retries, ETA or the reset a stage waits for) and a line per stage, fitted to the
 * terminal's width. */
#include "display_int.h"
#include "textout.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NAME_COL_MAX 28 /* job and stage names are cut to this */
#define BAR_MAX      30
#define BAR_MIN      8 /* narrower than this: no bar */

size_t display_width(const char *s, size_t len)
{
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0x1b) {
            /* CSI: ESC [ parameters... final byte in 0x40..0x7e */
            if (i + 1 < len && s[i + 1] == '[') {
                i += 2;
                while (i < len && !((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e))
                    i++;
            } else {
                i++;
            }
            continue;
        }
        if ((c & 0xc0) != 0x80 && c >= 0x20)
            w++;
    }
    return w;
}

void dline_add(const struct display *d, struct dline *l, const char *sgr, const char *fmt, ...)
{
    struct buf raw = BUF_INIT, t = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&raw, fmt, ap);
    va_end(ap);
    /* Text can hold the API's or the model's words: no control character of theirs reaches
     * the terminal (an escape sequence, C0 or C1, could move the cursor or retitle the
     * window); newlines and tabs become spaces. */
    tx_sanitize_line(&t, raw.data);
    buf_release(&raw);
    if (d->color && sgr && t.len)
        buf_addf(&l->b, "\x1b[%sm%s\x1b[0m", sgr, t.data);
    else
        buf_add(&l->b, t.data, t.len);
    l->w += display_width(t.data, t.len);
    buf_release(&t);
}

void dline_fit(const struct display *d, struct dline *l, size_t cols)
{
    if (l->w <= cols)
        return;
    const char *s = l->b.data;
    size_t w = 0, i = 0, len = l->b.len;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0x1b) {
            size_t j = i + 1;
            if (j < len && s[j] == '[') {
                j++;
                while (j < len && !((unsigned char)s[j] >= 0x40 && (unsigned char)s[j] <= 0x7e))
                    j++;
            }
            i = j + 1;
            continue;
        }
        if ((c & 0xc0) != 0x80 && c >= 0x20) {
            if (w == cols)
                break;
            w++;
        }
        i++;
    }
    buf_setlen(&l->b, i < len ? i : len);
    if (d->color)
        buf_adds(&l->b, "\x1b[0m");
    l->w = w;
}

void dlines_release(struct dlines *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        buf_release(&ls->v[i].b);
    free(ls->v);
    memset(ls, 0, sizeof *ls);
}

/* A bar of `width` cells: done part, then failed part (red), then the rest. */
static void bar(const struct display *d, struct dline *l, size_t width, double done, double failed)
{
    if (width == 0)
        return;
    size_t n_fail = failed > 0 ? (size_t)ceil(failed * (double)width) : 0;
    n_fail = n_fail > width ? width : n_fail;
    double cells = done * (double)width;
    size_t n_done = (size_t)floor(cells);
    if (n_done > width - n_fail)
        n_done = width - n_fail;
    /* a partial cell (eighths) after the done part, when there is room and no failure */
    int eighths = 0;
    if (d->utf8 && n_fail == 0 && n_done < width)
        eighths = (int)floor((cells - (double)n_done) * 8);
    size_t n_rest = width - n_done - n_fail - (eighths > 0);
    struct buf t = BUF_INIT;
    const char *full = d->utf8 ? "\u2588" : "#";
    for (size_t i = 0; i < n_done; i++)
        buf_adds(&t, full);
    if (eighths > 0) {
        static const char *const part[] = {"",       "\u258f", "\u258e", "\u258d",
                                           "\u258c", "\u258b", "\u258a", "\u2589"};
        buf_adds(&t, part[eighths]);
    }
    if (!d->utf8)
        dline_add(d, l, NULL, "[");
    dline_add(d, l, DC_GREEN, "%s", t.data);
    buf_reset(&t);
    for (size_t i = 0; i < n_fail; i++)
        buf_adds(&t, d->utf8 ? "\u2588" : "x");
    if (n_fail)
        dline_add(d, l, DC_RED, "%s", t.data);
    buf_reset(&t);
    for (size_t i = 0; i < n_rest; i++)
        buf_adds(&t, d->utf8 ? "\u2591" : ".");
    if (n_rest)
        dline_add(d, l, DC_DIM, "%s", t.data);
    if (!d->utf8)
        dline_add(d, l, NULL, "]");
    buf_release(&t);
    dline_add(d, l, NULL, " ");
}

/* Separator-joined parts right of the bar. */
static void part(const struct display *d, struct dline *l, bool *first, const char *sgr,
                 const char *text)
{
    if (!*first)
        dline_add(d, l, NULL, ", ");
    *first = false;
    dline_add(d, l, sgr, "%s", text);
}

static void count_part(const struct display *d, struct dline *l, bool *first, const char *sgr,
                       long n, const char *one, const char *many)
{
    if (n <= 0)
        return;
    char t[64];
    snprintf(t, sizeof t, "%ld %s", n, n == 1 ? one : many);
    part(d, l, first, sgr, t);
}

static void eta_part(const struct display *d, struct dline *l, bool *first, double eta_s)
{
    if (eta_s < 0)
        return; /* no data yet: no ETA at all, rather than a guess */
    char t[32], dur[16];
    progress_format_duration(eta_s, dur, sizeof dur);
    snprintf(t, sizeof t, "eta %s", dur);
    part(d, l, first, DC_CYAN, t);
}

/* "waiting for quota until 09:00 CEST (in 7h12m)": the reset of a per-day quota, in local
 * time, instead of an ETA. */
static void quota_part(const struct display *d, struct dline *l, bool *first, int64_t until_ms)
{
    time_t t = (time_t)(until_ms / 1000);
    struct tm tm;
    char at[32] = "?", left[16], text[96];
    if (localtime_r(&t, &tm))
        strftime(at, sizeof at, "%H:%M %Z", &tm);
    double s = (double)(until_ms - wall_ms()) / 1000.0;
    progress_format_duration(s > 0 ? s : 0, left, sizeof left);
    snprintf(text, sizeof text, "waiting for quota until %s (in %s)", at, left);
    part(d, l, first, DC_YEL, text);
}

static const char *waiting_for(const struct job *job, size_t s)
{
    const struct stage_def *def = &job->wf.stages[s];
    for (size_t i = 0; i < def->n_deps; i++) {
        enum stage_state st = job->st[def->deps[i]].state;
        if (st != SS_DONE)
            return job->wf.stages[def->deps[i]].name;
    }
    return "its inputs";
}

/* One line: a name, maybe a bar, and the text right of it. */
struct row {
    bool bar;
    double done, failed; /* fractions of the bar */
    struct dline right;
};

/* A stage's text right of the bar: done/total, then what is going on. */
static void stage_right(const struct display *d, const struct djob *dj, size_t s, int count_w,
                        bool ended, struct row *r)
{
    const struct job *job = dj->job;
    const struct progress_stage *ps = &d->prog.stages[s];
    struct dline *l = &r->right;
    if (ps->state == SS_WAITING || ps->state == SS_BLOCKED) {
        /* no bar yet: the estimated count in the count column */
        char cnt[32] = "";
        if (ps->state == SS_WAITING)
            snprintf(cnt, sizeof cnt, "%s%zu", job->wf.stages[s].foreach ? "~" : "", ps->total);
        dline_add(d, l, DC_DIM, "%*s  ", count_w * 2 + 1, cnt);
        if (ps->state == SS_BLOCKED)
            dline_add(d, l, DC_DIM, "blocked: '%s' did not finish", waiting_for(job, s));
        else if (ended)
            dline_add(d, l, DC_DIM, "not started");
        else
            dline_add(d, l, DC_DIM, "waiting for %s", waiting_for(job, s));
        return;
    }
    double tot = ps->total ? (double)ps->total : 1;
    r->bar = true;
    r->done = ps->total ? (double)ps->done / tot : 1;
    r->failed = (double)ps->failed / tot;
    dline_add(d, l, ps->state == SS_FAILED ? DC_RED : NULL, "%*zu/%-*zu  ", count_w, ps->done,
              count_w, ps->total);
    bool first = true;
    count_part(d, l, &first, DC_RED, (long)ps->failed, "failed", "failed");
    if (ps->state == SS_RUNNING && ended) {
        /* the run ended (interrupted) with this stage unfinished */
        count_part(d, l, &first, DC_YEL, ps->retries, "retry", "retries");
        part(d, l, &first, DC_YEL, "stopped");
        return;
    }
    if (ps->state == SS_RUNNING) {
        count_part(d, l, &first, DC_DIM, (long)ps->cached, "cached", "cached");
        count_part(d, l, &first, NULL, ps->inflight, "in flight", "in flight");
        if (ps->rendering) {
            char t[64], age[16];
            progress_format_duration(ps->render_s, age, sizeof age);
            if (ps->rendering == 1)
                snprintf(t, sizeof t, "rendering, %s", age);
            else
                snprintf(t, sizeof t, "%d rendering, longest %s", ps->rendering, age);
            part(d, l, &first, NULL, t);
        }
        count_part(d, l, &first, DC_YEL, ps->retries, "retry", "retries");
        if (ps->quota_until_ms)
            quota_part(d, l, &first, ps->quota_until_ms);
        else
            eta_part(d, l, &first, ps->eta_s);
        return;
    }
    count_part(d, l, &first, DC_YEL, ps->retries, "retry", "retries");
    if (ps->state == SS_DONE && ps->cached == ps->total) {
        part(d, l, &first, DC_DIM, "cached");
        return;
    }
    count_part(d, l, &first, DC_DIM, (long)ps->cached, "cached", "cached");
    char t[64];
    int64_t ms = dj->stage_ms[s];
    const char *what = ps->state == SS_DONE ? "done in" : "stage failed after";
    if (ms >= 0)
        snprintf(t, sizeof t, "%s %.1fs", what, (double)ms / 1000.0);
    else
        snprintf(t, sizeof t, "%s", ps->state == SS_DONE ? "done" : "stage failed");
    part(d, l, &first, ps->state == SS_DONE ? DC_GREEN : DC_RED, t);
}

/* The job's text right of the bar: percent, items, and what is going on or how it ended. */
static void header_right(const struct display *d, const char *end_state, int64_t end_ms,
                         struct row *r)
{
    const struct progress *p = &d->prog;
    struct dline *l = &r->right;
    double tot = p->total ? (double)p->total : 1;
    size_t failed = 0;
    for (size_t s = 0; s < p->n_stages; s++)
        failed += p->stages[s].failed;
    r->bar = true;
    r->done = p->total ? (double)(p->finished - failed) / tot : 1;
    r->failed = (double)failed / tot;
    dline_add(d, l, NULL, "%5.1f%%  %zu/%s%zu items  ", p->percent, p->finished - failed,
              p->estimated ? "~" : "", p->total);
    bool first = true;
    count_part(d, l, &first, DC_RED, (long)failed, "failed", "failed");
    if (end_state) {
        char t[64];
        snprintf(t, sizeof t, "%s in %.1fs", end_state, (double)end_ms / 1000.0);
        const char *sgr = strcmp(end_state, "done") == 0     ? DC_GREEN
                          : strcmp(end_state, "failed") == 0 ? DC_RED
                                                             : DC_YEL;
        part(d, l, &first, sgr, t);
        return;
    }
    count_part(d, l, &first, NULL, p->inflight, "in flight", "in flight");
    count_part(d, l, &first, DC_YEL, p->retries, "retry", "retries");
    if (p->quota_until_ms)
        quota_part(d, l, &first, p->quota_until_ms);
    else
        eta_part(d, l, &first, p->eta_s);
}

void display_draw_job(struct display *d, const struct djob *dj, int64_t now, size_t cols,
                      const char *end_state, int64_t end_ms, struct dlines *out)
{
    const struct job *job = dj->job;
    size_t n = job->wf.n_stages;
    progress_compute(job, now, &d->prog);
    size_t name_col = strlen(job->name), widest_total = 1;
    for (size_t s = 0; s < n; s++) {
        size_t w = strlen(job->wf.stages[s].name) + 2;
        name_col = w > name_col ? w : name_col;
        if (d->prog.stages[s].total > widest_total)
            widest_total = d->prog.stages[s].total;
    }
    name_col = name_col > NAME_COL_MAX ? NAME_COL_MAX : name_col;
    int count_w = snprintf(NULL, 0, "%zu", widest_total);
    struct row *rows = xcalloc(n + 1, sizeof *rows);
    header_right(d, end_state, end_ms, &rows[0]);
    for (size_t k = 0; k < n; k++)
        stage_right(d, dj, job->wf.order[k], count_w, end_state != NULL, &rows[k + 1]);
    /* one bar width for the whole job, from what the widest text right of it leaves */
    size_t right = 0;
    for (size_t i = 0; i <= n; i++)
        right = rows[i].right.w > right ? rows[i].right.w : right;
    long room = (long)cols - (long)name_col - 1 - (long)right - 1 - (d->utf8 ? 0 : 2);
    size_t bar_w = room < BAR_MIN ? 0 : room > BAR_MAX ? BAR_MAX : (size_t)room;
    for (size_t i = 0; i <= n; i++) {
        struct dline *l = VEC_PUSH(out->v, out->n, out->cap);
        *l = (struct dline){BUF_INIT, 0};
        if (i == 0)
            dline_add(d, l, DC_BOLD, "%-*.*s ", (int)name_col, (int)name_col, job->name);
        else
            dline_add(d, l, NULL, "  %-*.*s ", (int)name_col - 2, (int)name_col - 2,
                      job->wf.stages[job->wf.order[i - 1]].name);
        if (bar_w && rows[i].bar)
            bar(d, l, bar_w, rows[i].done, rows[i].failed);
        else if (bar_w)
            dline_add(d, l, NULL, "%*s", (int)(bar_w + (d->utf8 ? 1 : 3)), "");
        buf_add(&l->b, rows[i].right.b.data, rows[i].right.b.len);
        l->w += rows[i].right.w;
        dline_fit(d, l, cols);
        buf_release(&rows[i].right.b);
    }
    free(rows);
}
