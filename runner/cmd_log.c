/* cmd_log: `gemflow log JOB [-f] [--json]`: the progress log made readable, one aligned line per
 * event (coloured on a terminal), or the JSON lines as they are; -f follows a running job like
 * `tail -f`. Only complete lines are shown: a line still being written waits for its newline. */
#include "buf.h"
#include "cli.h"
#include "fsutil.h"
#include "jsonutil.h"
#include "textout.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FOLLOW_POLL_MS 200

struct log_view {
    bool json, color, follow;
    char day[40]; /* the date of the last line shown, for the date separators */
    size_t lineno;
};

static const char *event_sgr(const char *ev)
{
    if (strcmp(ev, "item_failed") == 0 || strcmp(ev, "stage_failed") == 0)
        return TX_RED;
    if (strcmp(ev, "item_done") == 0 || strcmp(ev, "stage_done") == 0)
        return TX_GREEN;
    if (strcmp(ev, "retry") == 0 || strcmp(ev, "stage_reset") == 0 || strcmp(ev, "item_reset") == 0)
        return TX_YELLOW;
    if (str_starts_with(ev, "run_"))
        return TX_BOLD;
    if (str_starts_with(ev, "stage_"))
        return TX_BLUE;
    return TX_DIM;
}

static void add_http(struct buf *b, const cJSON *ev, const cJSON *err)
{
    const cJSON *src = err ? err : ev;
    double st = json_num(src, "http_status", 0);
    if (st > 0)
        buf_addf(b, "HTTP %.0f", st);
    if (json_str(src, "status"))
        buf_addf(b, " %s", json_str(src, "status"));
}

static void add_ms(struct buf *b, const char *prefix, double ms)
{
    char d[32];
    tx_duration(d, sizeof d, (int64_t)ms);
    buf_addf(b, "%s%s", prefix, d);
}

/* Fields not explained by the known formats, as "name=value". */
static void add_rest(struct buf *b, const cJSON *ev)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, ev)
    {
        const char *k = c->string;
        if (strcmp(k, "ts") == 0 || strcmp(k, "event") == 0 || strcmp(k, "stage") == 0 ||
            strcmp(k, "item") == 0)
            continue;
        char *v = cJSON_IsString(c) ? xstrdup(c->valuestring) : cJSON_PrintUnformatted(c);
        buf_addf(b, "%s%s=%s", b->len ? " " : "", k, v);
        free(v);
    }
}

static void describe_item_done(struct buf *b, const cJSON *ev)
{
    const cJSON *o;
    int n = 0;
    cJSON_ArrayForEach(o, json_field(ev, "outputs"))
    {
        buf_addf(b, "%s%s (%.0f bytes)", n++ ? ", " : "", json_str(o, "path"),
                 json_num(o, "bytes", 0));
    }
    const cJSON *m = json_field(ev, "media");
    if (json_num(m, "width", 0) > 0)
        buf_addf(b, ", %.0fx%.0f", json_num(m, "width", 0), json_num(m, "height", 0));
    if (json_num(m, "duration_s", 0) > 0)
        buf_addf(b, ", %.1fs of audio", json_num(m, "duration_s", 0));
    if (cJSON_IsTrue(json_field(ev, "accepted")))
        buf_adds(b, ", accepted without a call");
}

static void describe(struct buf *b, const char *name, const cJSON *ev)
{
    if (strcmp(name, "run_start") == 0) {
        buf_addf(b, "workflow %s, pid %.0f, gemflow %s", json_str(ev, "workflow"),
                 json_num(ev, "pid", 0), json_str(ev, "version") ? json_str(ev, "version") : "?");
        if (json_str(ev, "endpoint"))
            buf_addf(b, ", endpoint %s", json_str(ev, "endpoint"));
    } else if (strcmp(name, "run_end") == 0) {
        buf_addf(b, "%s", json_str(ev, "state") ? json_str(ev, "state") : "?");
        add_ms(b, " in ", json_num(ev, "ms", 0));
        buf_addf(b, ": %.0f calls, %.0f tokens", json_num(ev, "calls", 0),
                 json_num(ev, "tokens", 0));
        if (cJSON_IsNumber(json_field(ev, "cost_estimate")))
            buf_addf(b, ", about $%.4f", json_num(ev, "cost_estimate", 0));
    } else if (strcmp(name, "stage_start") == 0) {
        double n = json_num(ev, "items", 0);
        buf_addf(b, "%.0f item%s, %.0f cached", n, n == 1 ? "" : "s", json_num(ev, "cached", 0));
        if (json_num(ev, "edited", 0) > 0)
            buf_addf(b, " (%.0f edited)", json_num(ev, "edited", 0));
    } else if (strcmp(name, "stage_done") == 0 || strcmp(name, "stage_failed") == 0) {
        add_ms(b, "after ", json_num(ev, "ms", 0));
        buf_addf(b, ": %.0f done, %.0f failed", json_num(ev, "done", 0), json_num(ev, "failed", 0));
        if (json_str(ev, "error"))
            buf_addf(b, ": %s", json_str(ev, "error"));
    } else if (strcmp(name, "stage_reset") == 0) {
        buf_adds(b, "every item is regenerated (gemflow rerun)");
    } else if (strcmp(name, "item_reset") == 0) {
        buf_adds(b, "regenerated (gemflow rerun STAGE/ITEM)");
    } else if (strcmp(name, "call_start") == 0) {
        buf_addf(b, "%s, attempt %.0f", json_str(ev, "model"), json_num(ev, "attempt", 0));
    } else if (strcmp(name, "call_end") == 0) {
        add_http(b, ev, NULL);
        add_ms(b, b->len ? " in " : "no response after ", json_num(ev, "ms", 0));
        buf_addf(b, ", %.0f bytes", json_num(ev, "bytes", 0));
        if (json_num(json_field(ev, "tokens"), "total", 0) > 0)
            buf_addf(b, ", %.0f tokens", json_num(json_field(ev, "tokens"), "total", 0));
        if (json_str(ev, "finish_reason"))
            buf_addf(b, ", %s", json_str(ev, "finish_reason"));
        if (json_str(ev, "served_by"))
            buf_addf(b, ", served by %s", json_str(ev, "served_by"));
        if (json_str(ev, "error"))
            buf_addf(b, ": %s", json_str(ev, "error"));
    } else if (strcmp(name, "retry") == 0) {
        buf_addf(b, "%sattempt %.0f", cJSON_IsTrue(json_field(ev, "paid")) ? "paid " : "",
                 json_num(ev, "attempt", 0));
        add_ms(b, " in ", json_num(ev, "delay_ms", 0));
        buf_addf(b, ": %s", json_str(ev, "reason") ? json_str(ev, "reason") : "?");
    } else if (strcmp(name, "item_done") == 0) {
        describe_item_done(b, ev);
    } else if (strcmp(name, "item_failed") == 0) {
        const cJSON *e = json_field(ev, "error");
        add_http(b, ev, e);
        if (!b->len && json_str(e, "kind"))
            buf_addf(b, "(%s)", json_str(e, "kind"));
        double n = json_num(ev, "attempts", 0);
        if (n > 0)
            buf_addf(b, " after %.0f attempt%s", n, n == 1 ? "" : "s");
        buf_addf(b, ": %s", json_str(e, "message") ? json_str(e, "message") : "?");
    } else if (strcmp(name, "models_checked") == 0) {
        const cJSON *m;
        buf_adds(b, "served:");
        cJSON_ArrayForEach(m, json_field(ev, "models")) buf_addf(b, " %s", m->valuestring);
    } else if (strcmp(name, "model_rerouted") == 0) {
        buf_addf(b, "asked %s, served by %s", json_str(ev, "model"), json_str(ev, "served_by"));
    } else if (strcmp(name, "model_unavailable") == 0) {
        buf_addf(b, "%s: ", json_str(ev, "model"));
        add_http(b, ev, NULL);
        buf_addf(b, ": %s", json_str(ev, "message") ? json_str(ev, "message") : "?");
    } else if (strcmp(name, "progress") == 0) {
        buf_addf(b, "%.1f%%", json_num(ev, "percent", 0));
        if (cJSON_IsNumber(json_field(ev, "eta_s"))) {
            buf_addf(b, ", eta %.1fs", json_num(ev, "eta_s", 0));
        } else {
            buf_adds(b, ", no estimate yet");
        }
    } else {
        add_rest(b, ev);
    }
}

static void show_text(struct log_view *v, const cJSON *ev)
{
    const char *name = json_str(ev, "event");
    int64_t ms;
    char t[40] = "?";
    if (tx_parse_ts(json_str(ev, "ts"), &ms) == 0) {
        char day[40];
        tx_local_time(day, sizeof day, ms, true);
        day[10] = '\0';
        if (strcmp(day, v->day) != 0) {
            snprintf(v->day, sizeof v->day, "%s", day);
            printf("%s-- %s --%s\n", tx_c(v->color, TX_DIM), day, tx_c(v->color, TX_RESET));
        }
        tx_local_time(t, sizeof t, ms, false);
    }
    struct buf subj = BUF_INIT, what = BUF_INIT;
    if (json_str(ev, "stage"))
        buf_adds(&subj, json_str(ev, "stage"));
    if (json_str(ev, "item") &&
        (!json_str(ev, "stage") || strcmp(json_str(ev, "item"), json_str(ev, "stage")) != 0))
        buf_addf(&subj, "/%s", json_str(ev, "item"));
    describe(&what, name, ev);
    printf("%s  %s%-17s%s %-22s %s\n", t, tx_c(v->color, event_sgr(name)), name,
           tx_c(v->color, TX_RESET), subj.data, what.data);
    buf_release(&subj);
    buf_release(&what);
}

static void show_line(struct log_view *v, const char *line, size_t len)
{
    v->lineno++;
    cJSON *ev = cJSON_ParseWithLength(line, len);
    if (!cJSON_IsObject(ev) || !json_str(ev, "event")) {
        if (!v->json) {
            char *raw = xstrndup(line, len > 120 ? 120 : len);
            struct buf safe = BUF_INIT;
            tx_sanitize(&safe, raw);
            printf("%s? line %zu is not an event: %s%s\n", tx_c(v->color, TX_RED), v->lineno,
                   safe.data, tx_c(v->color, TX_RESET));
            buf_release(&safe);
            free(raw);
        }
    } else if (v->json) {
        struct buf safe = BUF_INIT; /* the line as it is, unless it holds a control character */
        tx_json_safe(&safe, line, len);
        printf("%s\n", safe.data);
        buf_release(&safe);
    } else {
        tx_sanitize_json(ev); /* a model's words, the API's, a hand-edited line */
        show_text(v, ev);
    }
    cJSON_Delete(ev);
}

/* Show every complete line in `pending`, keep the unfinished rest. */
static void show_pending(struct log_view *v, struct buf *pending)
{
    size_t start = 0;
    for (;;) {
        char *nl = memchr(pending->data + start, '\n', pending->len - start);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (pending->data + start));
        if (len)
            show_line(v, pending->data + start, len);
        start += len + 1;
    }
    memmove(pending->data, pending->data + start, pending->len - start);
    buf_setlen(pending, pending->len - start);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Whether the file at `path` is no longer the one open as `fd`, or was cut below `offset`. */
static bool log_replaced(int fd, const char *path, off_t offset)
{
    struct stat a, b;
    if (fstat(fd, &a) < 0 || stat(path, &b) < 0)
        return false; /* gone for now: keep the old one until a new one appears */
    return a.st_ino != b.st_ino || a.st_dev != b.st_dev || b.st_size < offset;
}

static int show_log(struct log_view *v, const char *path, bool follow)
{
    struct buf pending = BUF_INIT;
    int fd = -1;
    off_t offset = 0;
    char chunk[65536];
    for (;;) {
        if (fd < 0) {
            fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0 && (errno != ENOENT || !follow)) {
                fprintf(stderr, "gemflow: cannot open '%s': %s\n", path, strerror(errno));
                buf_release(&pending);
                return GF_EXIT_USAGE;
            }
        }
        ssize_t n = fd >= 0 ? read(fd, chunk, sizeof chunk) : 0;
        if (n < 0) {
            fprintf(stderr, "gemflow: cannot read '%s': %s\n", path, strerror(errno));
            break;
        }
        if (n > 0) {
            offset += n;
            buf_add(&pending, chunk, (size_t)n);
            show_pending(v, &pending);
            continue;
        }
        if (!follow)
            break;
        fflush(stdout);
        sleep_ms(FOLLOW_POLL_MS);
        if (fd >= 0 && log_replaced(fd, path, offset)) {
            close(fd);
            fd = -1;
            offset = 0;
            buf_reset(&pending);
        }
    }
    if (fd >= 0)
        close(fd);
    buf_release(&pending); /* a torn last line is not shown */
    return GF_EXIT_OK;
}

/* -f, --json */
static int log_own(void *ctx, int id, const char *arg, char *why, size_t why_len)
{
    (void)arg, (void)why, (void)why_len;
    struct log_view *v = ctx;
    if (id == OPT_FOLLOW)
        v->follow = true;
    else if (id == OPT_JSON)
        v->json = true;
    else
        return -1;
    return 0;
}

int cmd_log(int argc, char **argv)
{
    struct log_view v = {0};
    struct job_cli jc = {0};
    int rc = cli_parse("log", argc, argv, &jc, log_own, &v);
    if (rc)
        return rc;
    bool follow = v.follow;
    if (optind != argc - 1)
        return cli_usage_error("log", optind >= argc ? "no job given: gemflow log JOB"
                                                     : "one job at a time: gemflow log JOB");
    const char *dir = argv[optind];
    if (!fs_is_dir(dir)) {
        fprintf(stderr, "gemflow: '%s' is not a job directory (no such directory)\n", dir);
        return GF_EXIT_USAGE;
    }
    char *path = fs_join(dir, "progress.jsonl");
    struct stat st;
    if (!follow && stat(path, &st) < 0 && errno == ENOENT) {
        fprintf(stderr, "gemflow: job '%s' has no progress log yet: it never ran\n", dir);
        free(path);
        return GF_EXIT_USAGE;
    }
    v.color = !v.json && tx_use_color(stdout, jc.color);
    rc = show_log(&v, path, follow);
    free(path);
    return rc;
}
