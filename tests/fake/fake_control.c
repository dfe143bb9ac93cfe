/* fake_control.c: the /_fake/ control endpoints of the fake Gemini server (no key needed, never
 * logged as API requests): replace or show the fault rules, reset counters, read the stats. */
#include "fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_rules(struct fk_server *s, struct fk_request *req, struct fk_reply *out)
{
    cJSON *arr = fk_json_parse(req->body.buf, req->body.len, NULL);
    struct fk_rules rules;
    char err[200];
    if (fk_rules_parse(arr, &rules, err, sizeof err) < 0) {
        cJSON_Delete(arr);
        fk_error_invalid(out, err);
        return;
    }
    cJSON_Delete(arr);
    pthread_mutex_lock(&s->lock);
    fk_rules_release(&s->rules);
    s->rules = rules;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "rules", (double)rules.n);
    pthread_mutex_unlock(&s->lock);
    fk_reply_json(out, 200, doc);
}

static void show_rules(struct fk_server *s, struct fk_reply *out)
{
    pthread_mutex_lock(&s->lock);
    cJSON *arr = fk_rules_to_json(&s->rules);
    pthread_mutex_unlock(&s->lock);
    fk_reply_json(out, 200, arr);
}

/* Clears the rules, the rule and marker counters and the --rpm windows; keeps log and stats. */
static void reset(struct fk_server *s, struct fk_reply *out)
{
    pthread_mutex_lock(&s->lock);
    fk_rules_release(&s->rules);
    for (size_t i = 0; i < s->n_markers; i++)
        free(s->markers[i].key);
    free(s->markers);
    s->markers = NULL;
    s->n_markers = 0;
    for (size_t i = 0; i < s->n_rpm; i++)
        s->rpm[i].head = s->rpm[i].count = 0;
    pthread_mutex_unlock(&s->lock);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddBoolToObject(doc, "reset", 1);
    fk_reply_json(out, 200, doc);
}

static void stats(struct fk_server *s, struct fk_reply *out)
{
    pthread_mutex_lock(&s->lock);
    cJSON *copy = cJSON_Duplicate(s->stats, 1);
    /* received but not logged yet: a test waits for 0 before it counts the log */
    cJSON_AddNumberToObject(copy, "open", (double)(s->next_seq - s->logged));
    pthread_mutex_unlock(&s->lock);
    fk_reply_json(out, 200, copy);
}

void fk_control_handle(struct fk_server *s, struct fk_request *req, struct fk_reply *out)
{
    const char *what = req->path + strlen("/_fake/");
    bool post = strcmp(req->method, "POST") == 0, get = strcmp(req->method, "GET") == 0;
    if (strncmp(req->path, "/_fake/", 7) != 0)
        fk_error_no_route(out, req->path);
    else if (strcmp(what, "faults") == 0 && post)
        set_rules(s, req, out);
    else if (strcmp(what, "faults") == 0 && get)
        show_rules(s, out);
    else if (strcmp(what, "reset") == 0 && post)
        reset(s, out);
    else if (strcmp(what, "interactions") == 0 && post)
        fk_ix_control(s, req, out);
    else if (strcmp(what, "stats") == 0 && get)
        stats(s, out);
    else
        fk_error_no_route(out, req->path);
}
