/* fake_errors.c: the error bodies of the fake Gemini server, copied from real API answers
 * (gemini-api.md §4.3): {"error": {code, message, status, details[]}}, plus the replies of the
 * HTTP-error fault kinds and of the --rpm limiter. */
#include "fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE_DOC "https://ai.google.dev/gemini-api/docs/rate-limits"
#define QUOTA_MSG                                                                                  \
    "You exceeded your current quota, please check your plan and billing details. For more "       \
    "information on this error, head to: " RATE_DOC "."

void fk_reply_set(struct fk_reply *r, int status, char *body, size_t len, const char *ctype)
{
    free(r->body);
    r->status = status;
    r->body = body;
    r->len = len;
    r->content_type = ctype;
}

void fk_reply_json(struct fk_reply *r, int status, cJSON *doc)
{
    size_t len;
    char *text = fk_json_print(doc, &len);
    cJSON_Delete(doc);
    fk_reply_set(r, status, text, len, "application/json; charset=UTF-8");
}

void fk_reply_release(struct fk_reply *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

void fk_error(struct fk_reply *r, int code, const char *status, const char *message, cJSON *details)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(doc, "error");
    cJSON_AddNumberToObject(err, "code", code);
    cJSON_AddStringToObject(err, "message", message);
    cJSON_AddStringToObject(err, "status", status);
    if (details)
        cJSON_AddItemToObject(err, "details", details);
    fk_reply_json(r, code, doc);
}

void fk_error_invalid(struct fk_reply *r, const char *message)
{
    fk_error(r, 400, "INVALID_ARGUMENT", message, NULL);
}

void fk_error_bad_request(struct fk_reply *r, const char *message, cJSON *violations)
{
    cJSON *details = cJSON_CreateArray();
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "@type", "type.googleapis.com/google.rpc.BadRequest");
    cJSON_AddItemToObject(d, "fieldViolations", violations);
    cJSON_AddItemToArray(details, d);
    fk_error(r, 400, "INVALID_ARGUMENT", message, details);
}

void fk_error_model_not_found(struct fk_reply *r, const char *version, const char *model,
                              const char *method)
{
    char *msg = fk_printf("models/%s is not found for API version %s, or is not supported for "
                          "%s. Call ListModels to see the list of available models and their "
                          "supported methods.",
                          model, version, method);
    fk_error(r, 404, "NOT_FOUND", msg, NULL);
    free(msg);
}

/* The body of a shut-down model (decolua/9router#1496, 2026-05-27, for
 * gemini-3.1-flash-lite-preview; sohzm/cheating-daddy#450 shows the same 404 NOT_FOUND form). */
void fk_error_model_retired(struct fk_reply *r, const char *model)
{
    char *msg = fk_printf("This model models/%s is no longer available. Please update your code "
                          "to use a newer model for the latest features and improvements.",
                          model);
    fk_error(r, 404, "NOT_FOUND", msg, NULL);
    free(msg);
}

void fk_error_no_route(struct fk_reply *r, const char *path)
{
    char *msg = fk_printf("The requested URL %s was not found on this server.", path);
    fk_error(r, 404, "NOT_FOUND", msg, NULL);
    free(msg);
}

/* ---- google.rpc detail builders ---- */

static cJSON *quota_failure(const char *metric, const char *id, const char *model,
                            const char *value)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "@type", "type.googleapis.com/google.rpc.QuotaFailure");
    cJSON *v = cJSON_AddArrayToObject(d, "violations");
    cJSON *one = cJSON_CreateObject();
    cJSON_AddStringToObject(one, "quotaMetric", metric);
    cJSON_AddStringToObject(one, "quotaId", id);
    cJSON *dims = cJSON_AddObjectToObject(one, "quotaDimensions");
    cJSON_AddStringToObject(dims, "location", "global");
    cJSON_AddStringToObject(dims, "model", model ? model : "");
    if (value)
        cJSON_AddStringToObject(one, "quotaValue", value);
    cJSON_AddItemToArray(v, one);
    return d;
}

static cJSON *help_link(void)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "@type", "type.googleapis.com/google.rpc.Help");
    cJSON *links = cJSON_AddArrayToObject(d, "links");
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "description", "Learn more about Gemini API quotas");
    cJSON_AddStringToObject(l, "url", RATE_DOC);
    cJSON_AddItemToArray(links, l);
    return d;
}

static cJSON *retry_info(const char *delay)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "@type", "type.googleapis.com/google.rpc.RetryInfo");
    cJSON_AddStringToObject(d, "retryDelay", delay);
    return d;
}

static cJSON *error_info(const char *reason, const char *method)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "@type", "type.googleapis.com/google.rpc.ErrorInfo");
    cJSON_AddStringToObject(d, "reason", reason);
    cJSON_AddStringToObject(d, "domain", "googleapis.com");
    cJSON *md = cJSON_AddObjectToObject(d, "metadata");
    cJSON_AddStringToObject(md, "service", "generativelanguage.googleapis.com");
    if (method)
        cJSON_AddStringToObject(md, "method", method);
    return d;
}

/* The per-minute free-tier body (Roo-Code#3883), with or without RetryInfo. */
static void error_429_minute(struct fk_server *s, const char *model, bool with_retry,
                             struct fk_reply *r)
{
    cJSON *details = cJSON_CreateArray();
    cJSON_AddItemToArray(details,
                         quota_failure("generativelanguage.googleapis.com/"
                                       "generate_content_free_tier_input_token_count",
                                       "GenerateContentInputTokensPerModelPerMinute-FreeTier",
                                       model, "250000"));
    cJSON_AddItemToArray(details, help_link());
    if (with_retry)
        cJSON_AddItemToArray(details, retry_info(s->cfg.retry_delay));
    fk_error(r, 429, "RESOURCE_EXHAUSTED", QUOTA_MSG, details);
}

/* The per-day body: the newer message form ending with "Please retry in ..." (python-genai#2044,
 * continuedev/continue#10062). */
static void error_429_daily(struct fk_server *s, const char *model, struct fk_reply *r)
{
    cJSON *details = cJSON_CreateArray();
    cJSON_AddItemToArray(details, quota_failure("generativelanguage.googleapis.com/"
                                                "generate_content_free_tier_requests",
                                                "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                                                model, "250"));
    cJSON_AddItemToArray(details, help_link());
    cJSON_AddItemToArray(details, retry_info(s->cfg.retry_delay));
    char *msg = fk_printf(QUOTA_MSG " To monitor your current usage, head to: "
                                    "https://ai.dev/rate-limit. \n* Quota exceeded for metric: "
                                    "generativelanguage.googleapis.com/"
                                    "generate_content_free_tier_requests, limit: 250, model: "
                                    "%s\nPlease retry in %s.",
                          model ? model : "", s->cfg.retry_delay);
    fk_error(r, 429, "RESOURCE_EXHAUSTED", msg, details);
    free(msg);
}

void fk_error_rpm(struct fk_reply *r, const char *model, int limit, int64_t wait_ms)
{
    char delay[32], value[16];
    snprintf(delay, sizeof delay, "%lld.%03llds", (long long)(wait_ms / 1000),
             (long long)(wait_ms % 1000));
    snprintf(value, sizeof value, "%d", limit);
    cJSON *details = cJSON_CreateArray();
    cJSON_AddItemToArray(details, quota_failure("generativelanguage.googleapis.com/"
                                                "generate_requests_per_model",
                                                "GenerateRequestsPerMinutePerProjectPerModel",
                                                model, value));
    cJSON_AddItemToArray(details, help_link());
    cJSON_AddItemToArray(details, retry_info(delay));
    char *msg =
        fk_printf(QUOTA_MSG " To monitor your current usage, head to: "
                            "https://ai.dev/rate-limit. \n* Quota exceeded for metric: "
                            "generativelanguage.googleapis.com/generate_requests_per_model, "
                            "limit: %d, model: %s\nPlease retry in %s.",
                  limit, model, delay);
    fk_error(r, 429, "RESOURCE_EXHAUSTED", msg, details);
    free(msg);
}

/* What Google's front end sends for a 502: an HTML page, not JSON. */
static void error_502_html(struct fk_reply *r)
{
    static const char html[] =
        "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <meta name=viewport "
        "content=\"initial-scale=1, minimum-scale=1, width=device-width\">\n  <title>Error 502 "
        "(Server Error)!!1</title>\n  <a href=//www.google.com/><span id=logo "
        "aria-label=Google></span></a>\n  <p><b>502.</b> <ins>That’s an error.</ins>\n  <p>The "
        "server encountered a temporary error and could not complete your request.<p>Please try "
        "again in 30 seconds.  <ins>That’s all we know.</ins>\n";
    fk_reply_set(r, 502, fk_strdup(html), strlen(html), "text/html; charset=UTF-8");
}

/* The gRPC method name a verb maps to, as ErrorInfo metadata shows it; caller frees. */
static char *rpc_name(const char *verb)
{
    if (strcmp(verb, "models.list") == 0)
        return fk_strdup("google.ai.generativelanguage.v1beta.ModelService.ListModels");
    if (strcmp(verb, "models.get") == 0)
        return fk_strdup("google.ai.generativelanguage.v1beta.ModelService.GetModel");
    const char *svc = strcmp(verb, "predict") == 0 ? "PredictionService" : "GenerativeService";
    char first = verb[0] >= 'a' && verb[0] <= 'z' ? (char)(verb[0] - 32) : verb[0];
    return fk_printf("google.ai.generativelanguage.v1beta.%s.%c%s", svc, first,
                     verb[0] ? verb + 1 : "");
}

void fk_error_fault(struct fk_server *s, enum fk_fault f, const char *model, const char *method,
                    struct fk_reply *r)
{
    char *rpc = rpc_name(method);
    cJSON *details;
    switch (f) {
    case FK_F_429: /* per-minute quota, RetryInfo with --retry-delay */
        error_429_minute(s, model, true, r);
        break;
    case FK_F_429_RETRY_AFTER: /* no RetryInfo; the Retry-After header carries the delay */
        error_429_minute(s, model, false, r);
        r->retry_after = s->cfg.retry_after;
        break;
    case FK_F_429_DAILY: /* per-day quota: retrying the same day is useless */
        error_429_daily(s, model, r);
        break;
    case FK_F_500: /* Internal Server Error */
        fk_error(r, 500, "INTERNAL",
                 "An internal error has occurred. Please retry or report in "
                 "https://developers.generativeai.google/guide/troubleshooting",
                 NULL);
        break;
    case FK_F_502: /* Bad Gateway from the front end */
        error_502_html(r);
        break;
    case FK_F_503: /* Service Unavailable */
        fk_error(r, 503, "UNAVAILABLE", "The model is overloaded. Please try again later.", NULL);
        break;
    case FK_F_504: /* Gateway Timeout */
        fk_error(r, 504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.",
                 NULL);
        break;
    case FK_F_400: /* Bad Request */
        fk_error_invalid(r, "Request contains an invalid argument.");
        break;
    case FK_F_400_CONTROLS: /* a hostile message: a window title (OSC ... BEL), clear screen,
                               a carriage return over the line, the one-byte C1 CSI */
        fk_error_invalid(r, "Request contains an invalid argument.\x1b]0;pwned-title\x07"
                            "\x1b[2J\rOVERWRITTEN \xc2\x9b"
                            "31mC1-CSI \x7f DEL");
        break;
    case FK_F_401: /* Unauthorized: what OAuth-style credentials get */
        details = cJSON_CreateArray();
        cJSON_AddItemToArray(details, error_info("ACCESS_TOKEN_TYPE_UNSUPPORTED", rpc));
        fk_error(r, 401, "UNAUTHENTICATED",
                 "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                 "login cookie or other valid authentication credential. See "
                 "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                 details);
        break;
    case FK_F_403: /* Forbidden */
        fk_error(r, 403, "PERMISSION_DENIED", "The caller does not have permission", NULL);
        break;
    case FK_F_404: /* Not Found: the model */
        fk_error_model_not_found(r, "v1beta", model ? model : "unknown", method);
        break;
    default:
        fk_error(r, 500, "INTERNAL", "fake-gemini: not an HTTP error fault", NULL);
        break;
    }
    free(rpc);
}
