/* quotarec: the quota record's format, its counters, and the Pacific day (see quotarec.h). */
#include "quotarec.h"
#include "jsonutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DAY_MS  86400000LL
#define HOUR_MS 3600000LL

static const char *const kind_names[QK_N] = {"rpm", "rpd", "tpm", "tpd"};

const char *quota_kind_name(enum quota_kind k)
{
    return k < QK_N ? kind_names[k] : "?";
}

int64_t quota_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- civil dates (H. Hinnant's algorithms: proleptic Gregorian, no time zone database) ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Day number of the n-th (1-based) Sunday of month m of year y. */
static int64_t nth_sunday(int64_t y, int m, int n)
{
    int64_t first = days_from_civil(y, m, 1);
    int64_t wd = ((first % 7) + 11) % 7; /* 1970-01-01 (day 0) was a Thursday: 0 = Sunday */
    return first + (7 - wd) % 7 + 7 * (n - 1);
}

/* The Pacific offset from UTC at an instant: -7 h from the second Sunday of March, 2:00 PST
 * (10:00 UTC), to the first Sunday of November, 2:00 PDT (09:00 UTC); else -8 h. */
static int64_t pacific_offset_ms(int64_t epoch_ms)
{
    int64_t y;
    int m, d;
    civil_from_days(floor_div(epoch_ms - 8 * HOUR_MS, DAY_MS), &y, &m, &d);
    int64_t start = nth_sunday(y, 3, 2) * DAY_MS + 10 * HOUR_MS;
    int64_t end = nth_sunday(y, 11, 1) * DAY_MS + 9 * HOUR_MS;
    return epoch_ms >= start && epoch_ms < end ? -7 * HOUR_MS : -8 * HOUR_MS;
}

void quota_pacific_day(int64_t epoch_ms, char day[11], int64_t *next_reset_ms)
{
    int64_t local_day = floor_div(epoch_ms + pacific_offset_ms(epoch_ms), DAY_MS);
    int64_t y;
    int m, d;
    civil_from_days(local_day, &y, &m, &d);
    snprintf(day, 11, "%04d-%02d-%02d", (int)y, m, d);
    if (next_reset_ms) {
        /* the next local midnight, under the offset in force then (the change is at 2:00) */
        int64_t midnight = (local_day + 1) * DAY_MS;
        int64_t at = midnight + 8 * HOUR_MS;
        if (pacific_offset_ms(midnight + 7 * HOUR_MS) == -7 * HOUR_MS)
            at = midnight + 7 * HOUR_MS;
        *next_reset_ms = at;
    }
}

void quota_rfc3339(int64_t epoch_ms, char *out, size_t n)
{
    int64_t days = floor_div(epoch_ms, DAY_MS), ms = epoch_ms - days * DAY_MS;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, m, d, (int)(ms / HOUR_MS),
             (int)(ms / 60000 % 60), (int)(ms / 1000 % 60), (int)(ms % 1000));
}

/* --- what a violation limits --------------------------------------------------------------- */

int quota_kind_of(const char *quota_id, const char *metric)
{
    const char *id = quota_id ? quota_id : "";
    bool day = strcasestr(id, "PerDay") != NULL;
    bool minute = strcasestr(id, "PerMinute") != NULL;
    if (!day && !minute)
        return -1;
    /* GenerateContentInputTokensPerModelPerMinute-FreeTier, ..._input_token_count */
    bool tokens = strcasestr(id, "Token") || (metric && strcasestr(metric, "token"));
    /* GenerateRequestsPerDayPerProjectPerModel-FreeTier, ..._requests, ..._requests_per_model */
    bool requests = strcasestr(id, "Request") || (metric && strcasestr(metric, "request"));
    if (tokens == requests)
        return -1; /* neither, or both: we cannot tell what to count */
    if (day)
        return tokens ? QK_TPD : QK_RPD;
    return tokens ? QK_TPM : QK_RPM;
}

/* --- counters ------------------------------------------------------------------------------ */

void quotarec_init(struct quota_rec *r, const char *model)
{
    memset(r, 0, sizeof *r);
    snprintf(r->model, sizeof r->model, "%s", model);
    for (int k = 0; k < QK_N; k++)
        r->limits[k].retry_ms = -1;
}

void quotarec_roll_day(struct quota_rec *r, int64_t now_ms)
{
    char today[11];
    quota_pacific_day(now_ms, today, NULL);
    if (strcmp(today, r->day) == 0)
        return;
    memcpy(r->day, today, sizeof r->day);
    r->day_count = 0;
    r->day_used_up = false;
}

/* Move the window so that the bucket of now_ms is its last one. */
static void slide(struct quota_rec *r, int64_t now_ms, int64_t minute_ms)
{
    int64_t w = minute_ms / QUOTAREC_WIN > 0 ? minute_ms / QUOTAREC_WIN : 1;
    int64_t cur = floor_div(now_ms, w) * w;
    int64_t first = cur - (QUOTAREC_WIN - 1) * w;
    if (r->win_start_ms == first)
        return;
    int64_t shift = floor_div(first - r->win_start_ms, w);
    if (shift < 0 && r->win_start_ms != 0)
        return; /* the clock went back: keep the counts where they are, they are recent */
    if (shift >= QUOTAREC_WIN || r->win_start_ms == 0) {
        memset(r->win, 0, sizeof r->win);
    } else {
        memmove(r->win, r->win + shift, (size_t)(QUOTAREC_WIN - shift) * sizeof r->win[0]);
        memset(r->win + QUOTAREC_WIN - shift, 0, (size_t)shift * sizeof r->win[0]);
    }
    r->win_start_ms = first;
}

void quotarec_count(struct quota_rec *r, int64_t now_ms, int64_t minute_ms)
{
    slide(r, now_ms, minute_ms);
    r->win[QUOTAREC_WIN - 1]++;
    quotarec_roll_day(r, now_ms);
    r->day_count++;
    r->total++;
}

int64_t quotarec_last_minute(const struct quota_rec *r, int64_t now_ms, int64_t minute_ms)
{
    struct quota_rec tmp;
    memcpy(&tmp, r, sizeof tmp);
    slide(&tmp, now_ms, minute_ms);
    int64_t n = 0;
    for (int i = 0; i < QUOTAREC_WIN; i++)
        n += tmp.win[i];
    return n;
}

/* --- the stored form ----------------------------------------------------------------------- */

static void copy_str(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static cJSON *limit_json(const struct quota_limit *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "value", l->value);
    cJSON_AddStringToObject(o, "quota_id", l->quota_id);
    cJSON_AddStringToObject(o, "metric", l->metric);
    cJSON_AddStringToObject(o, "learned_at", l->learned_at);
    cJSON_AddStringToObject(o, "source", l->source);
    json_add_i64(o, "retry_ms", l->retry_ms);
    return o;
}

void quotarec_format(const struct quota_rec *r, char out[QUOTAREC_SIZE])
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "v", 1);
    cJSON_AddStringToObject(o, "model", r->model);
    json_add_i64(o, "tat_ms", r->tat_ms);
    json_add_i64(o, "paused_until_ms", r->paused_until_ms);
    cJSON_AddStringToObject(o, "day", r->day);
    json_add_i64(o, "day_count", r->day_count);
    cJSON_AddBoolToObject(o, "day_used_up", r->day_used_up);
    json_add_i64(o, "win_start_ms", r->win_start_ms);
    cJSON *w = cJSON_AddArrayToObject(o, "win");
    for (int i = 0; i < QUOTAREC_WIN; i++)
        cJSON_AddItemToArray(w, cJSON_CreateNumber(r->win[i]));
    json_add_i64(o, "total", r->total);
    json_add_i64(o, "n_429", r->n_429);
    cJSON_AddStringToObject(o, "updated", r->updated);
    json_add_i64(o, "updated_ms", r->updated_ms);
    cJSON *lim = cJSON_AddObjectToObject(o, "limits");
    for (int k = 0; k < QK_N; k++)
        if (r->limits[k].value > 0)
            cJSON_AddItemToObject(lim, kind_names[k], limit_json(&r->limits[k]));
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    /* the strings are bounded by their arrays: the JSON always fits (quotarec_format is
     * checked against the largest record by test_quota) */
    size_t len = strlen(text);
    if (len > QUOTAREC_SIZE - 1)
        len = QUOTAREC_SIZE - 1;
    memset(out, ' ', QUOTAREC_SIZE);
    memcpy(out, text, len);
    out[QUOTAREC_SIZE - 1] = '\n';
    cJSON_free(text);
}

static int64_t i64(const cJSON *o, const char *name)
{
    return (int64_t)json_num(o, name, 0);
}

int quotarec_parse(const char *text, size_t len, struct quota_rec *r)
{
    cJSON *o = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(o) || json_num(o, "v", 0) != 1 || !json_str(o, "model")) {
        cJSON_Delete(o);
        return -1;
    }
    quotarec_init(r, json_str(o, "model"));
    r->tat_ms = i64(o, "tat_ms");
    r->paused_until_ms = i64(o, "paused_until_ms");
    copy_str(r->day, sizeof r->day, json_str(o, "day"));
    r->day_count = i64(o, "day_count");
    r->day_used_up = cJSON_IsTrue(json_field(o, "day_used_up"));
    r->win_start_ms = i64(o, "win_start_ms");
    const cJSON *w = json_field(o, "win");
    for (int i = 0; i < QUOTAREC_WIN && cJSON_IsArray(w); i++) {
        const cJSON *n = cJSON_GetArrayItem(w, i);
        r->win[i] = cJSON_IsNumber(n) && n->valuedouble > 0 ? (int32_t)n->valuedouble : 0;
    }
    r->total = i64(o, "total");
    r->n_429 = i64(o, "n_429");
    copy_str(r->updated, sizeof r->updated, json_str(o, "updated"));
    r->updated_ms = i64(o, "updated_ms");
    const cJSON *lim = json_field(o, "limits");
    for (int k = 0; k < QK_N; k++) {
        const cJSON *l = json_field(lim, kind_names[k]);
        if (!cJSON_IsObject(l))
            continue;
        struct quota_limit *q = &r->limits[k];
        q->value = json_num(l, "value", 0);
        copy_str(q->quota_id, sizeof q->quota_id, json_str(l, "quota_id"));
        copy_str(q->metric, sizeof q->metric, json_str(l, "metric"));
        copy_str(q->learned_at, sizeof q->learned_at, json_str(l, "learned_at"));
        copy_str(q->source, sizeof q->source, json_str(l, "source"));
        q->retry_ms = (int64_t)json_num(l, "retry_ms", -1);
    }
    cJSON_Delete(o);
    return 0;
}
