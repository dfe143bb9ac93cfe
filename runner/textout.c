/* textout: colour decisions and time formatting for human-readable output. */
#include "textout.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tx_color_parse(const char *s, enum tx_color_mode *mode)
{
    if (strcmp(s, "auto") == 0)
        *mode = TX_COLOR_AUTO;
    else if (strcmp(s, "always") == 0)
        *mode = TX_COLOR_ALWAYS;
    else if (strcmp(s, "never") == 0)
        *mode = TX_COLOR_NEVER;
    else
        return -1;
    return 0;
}

int tx_color_option(bool no_color, const char *arg, int argc, char **argv, enum tx_color_mode *mode)
{
    if (no_color) {
        *mode = TX_COLOR_NEVER;
        return 0;
    }
    if (arg)
        return tx_color_parse(arg, mode);
    /* --color WHEN: take the next argument only when it is a WHEN, so "--color JOB" works */
    if (optind < argc && tx_color_parse(argv[optind], mode) == 0) {
        optind++;
        return 0;
    }
    *mode = TX_COLOR_ALWAYS;
    return 0;
}

bool tx_use_color(FILE *f, enum tx_color_mode mode)
{
    if (mode != TX_COLOR_AUTO)
        return mode == TX_COLOR_ALWAYS;
    const char *no = getenv("NO_COLOR");
    if (no && no[0])
        return false;
    return isatty(fileno(f)) == 1;
}

const char *tx_c(bool color, const char *sgr)
{
    return color ? sgr : "";
}

const char *tx_state_sgr(const char *state)
{
    static const struct {
        const char *state, *sgr;
    } map[] = {
        {"done", TX_GREEN},     {"accepted", TX_GREEN}, {"failed", TX_RED},
        {"killed", TX_RED},     {"invalid", TX_RED},    {"running", TX_CYAN},
        {"partial", TX_YELLOW}, {"pending", TX_YELLOW}, {"interrupted", TX_YELLOW},
        {"edited", TX_YELLOW},  {"waiting", TX_DIM},    {"new", TX_DIM},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (state && strcmp(map[i].state, state) == 0)
            return map[i].sgr;
    }
    return "";
}

int tx_parse_ts(const char *ts, int64_t *epoch_ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int used = 0;
    if (!ts || sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const char *p = ts + used;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++) {
            if (digits++ < 3)
                frac = frac * 10 + (*p - '0');
        }
        for (; digits < 3; digits++)
            frac *= 10;
    }
    if (*p != 'Z')
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *epoch_ms = (int64_t)t * 1000 + frac;
    return 0;
}

int64_t tx_now_epoch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tx_local_time(char *out, size_t n, int64_t epoch_ms, bool with_date)
{
    time_t t = (time_t)(epoch_ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof base, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
    if (with_date)
        snprintf(out, n, "%s", base);
    else
        snprintf(out, n, "%s.%03d", base, (int)(epoch_ms % 1000));
}

void tx_duration(char *out, size_t n, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    if (ms < 1000)
        snprintf(out, n, "%lld ms", (long long)ms);
    else if (ms < 60000)
        snprintf(out, n, "%.1fs", (double)ms / 1000.0);
    else if (ms < 3600000)
        snprintf(out, n, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
    else
        snprintf(out, n, "%lldh%02lldm", (long long)(ms / 3600000), (long long)(ms / 60000 % 60));
}

void tx_age(char *out, size_t n, int64_t s)
{
    if (s < 5)
        snprintf(out, n, "just now");
    else if (s < 60)
        snprintf(out, n, "%llds ago", (long long)s);
    else if (s < 3600)
        snprintf(out, n, "%lldm ago", (long long)(s / 60));
    else if (s < 86400 * 2)
        snprintf(out, n, "%lldh ago", (long long)(s / 3600));
    else
        snprintf(out, n, "%lldd ago", (long long)(s / 86400));
}
