/* workflow_int: shared by the workflow loader's files (workflow.c, workflow_bundled.c,
 * workflow_value.c, workflow_set.c, workflow_stage.c, workflow_check.c and the files of its
 * checks, workflow_check_int.h); not part of the public API. */
#ifndef GF_WORKFLOW_INT_H
#define GF_WORKFLOW_INT_H

#include "buf.h"
#include "workflow.h"
#include "ydoc.h"

#define WF_DEFAULT_TIMEOUT_MS   120000
#define WF_DEFAULT_RETRIES      5
#define WF_DEFAULT_PAID_RETRIES 1
/* Flex inference targets 1-15 minutes per request (optimization guide, 2026-12): a stage on
 * flex without its own timeout waits this long per attempt. */
#define WF_FLEX_TIMEOUT_MS     (20 * 60 * 1000)
#define WF_DEFAULT_CONCURRENCY 8
#define WF_FILE_MAX            (16u << 20) /* prompt and schema files: never endless */
/* Limits no legitimate workflow meets (the document's own are YDOC_MAX_* in ydoc.h, the
 * templates' TMPL_MAX_REFS): the checks across stages and inputs stay cheap at these. */
#define WF_MAX_STAGES 64
#define WF_MAX_INPUTS 64

/* A stage named in `needs:`. */
struct wf_need {
    const char *name; /* borrowed from the document */
    const struct ydoc_node *node;
};

/* What the loader knows about a stage beyond struct stage_def, for the cross-stage checks. */
struct wf_stage_info {
    const struct ydoc_node *key;     /* the stage's name in the document */
    bool kind_ok;                    /* kind known: kind-dependent checks apply */
    bool schema_ok;                  /* json: schema loaded and linted */
    bool foreach_ok;                 /* foreach (video: scenes) resolved; item_schema is set */
    const cJSON *item_schema;        /* schema of one element of foreach or scenes (schema_any
                                        when unknown) */
    const struct ydoc_node *output;  /* the output value, for positions */
    const struct ydoc_node *foreach; /* foreach, or a video stage's scenes */
    const struct ydoc_node *second_output; /* the kind's second output (video: subtitles) */
    const struct ydoc_node *references;    /* the references value, for positions */
    struct wf_need *needs;
    size_t n_needs, cap_needs;
    const struct ydoc_node *enabled; /* the enabled value, when given */
    bool disabled;                   /* enabled: false */
};

/* The directory that relative file names in values from `file` resolve against. */
struct wf_dir {
    const char *file;
    char *dir;
};

struct wf_loader {
    struct workflow *wf;
    struct diag_list *dl;
    struct ydoc_node *doc;      /* the document defining the stages, after every `set` */
    struct wf_stage_info *info; /* parallel to wf->stages */
    size_t cap_inputs;
    struct wf_dir *dirs;
    size_t n_dirs, cap_dirs;

    /* defaults: */
    char *model;
    char *voice;
    int64_t timeout_ms;
    int retries;
    bool has_temperature;
    double temperature;
    bool has_top_p, has_top_k;
    double top_p;
    int top_k;
    bool timeout_set; /* defaults.timeout given */
    bool model_check, strict_model;
    int paid_retries;
    char *thinking, *service_tier;
};

/* ---- workflow.c ---- */
/* Free everything a stage owns and zero it. */
void wfl_stage_release(struct stage_def *s);
extern const char *const wfl_default_keys[];
extern const size_t wfl_n_default_keys;
const char *wfl_intern(struct workflow *wf, const char *s);
void wfl_add_dir(struct wf_loader *L, const char *file, const char *dir);
/* Directory for relative paths written in `file` (the workflow's own directory by default). */
const char *wfl_dir_of(const struct wf_loader *L, const char *file);
/* Resolve `rel` against `dir` (caller frees): "." + "a.md" -> "a.md". */
char *wfl_join(const char *dir, const char *rel);
/* Read file `name`, written in value `n` (a prompt or schema file; `what` says which), from the
 * directory of the workflow file holding the value and never from outside it: an absolute name,
 * a ".." component or a symbolic link on the way is a diagnostic at `n`. Returns 0 with the
 * text appended to `text` and *path the joined path for messages (caller frees), or -1 after a
 * diagnostic with *path NULL. At most WF_FILE_MAX bytes; a FIFO does not block the open. A value
 * from `--set` on the command line (no position) is the user's own: read as named. */
int wfl_read_beside(struct wf_loader *L, const struct ydoc_node *n, const char *what,
                    const char *name, struct buf *text, char **path);
/* The directory part of a path (caller frees): "a/b.yaml" -> "a", "b.yaml" -> ".". */
char *wfl_dirname(const char *path);

/* Parse a workflow file into *doc (a mapping); -1 after a diagnostic (at `at` when given). */
int wfl_parse_file(struct wf_loader *L, const char *file, const struct ydoc_node *at,
                   struct ydoc_node **doc);
void wfl_check_version(struct wf_loader *L, const struct ydoc_node *doc);
/* `file` defines the stages: wf->path, wf->dir and the directory of its relative paths. */
void wfl_set_stage_file(struct wf_loader *L, const char *file);
/* A `use: NAME` document from `job_file`: load the bundled workflow NAME into L->doc and apply
 * the document's `set:`. */
int wfl_load_use(struct wf_loader *L, const struct ydoc_node *doc, const char *job_file);
/* Load `file` (interned) into L->doc: a whole workflow, or `use:` + `set:`. */
int wfl_load_base(struct wf_loader *L, const char *file);
/* A workflow's name when it has no `name:`: its file name without .yaml/.yml (caller frees). */
char *wfl_default_name(const char *path);

/* ---- workflow_trust.c: a dropped job's workflow.yaml (opts->trust below WF_TRUST_ALL) ---- */
/* Load `file` (interned), a workflow a drop brought, into L->doc as far as opts->trust allows:
 * every key it may not set is a diagnostic. */
int wfl_load_dropped(struct wf_loader *L, const char *file, const struct wf_load_opts *opts);
/* A job made from a drop: the trust and workflow its marker (WORKFLOW_DROP_MARKER) records into
 * *opts (workflow_path in *path, caller frees). Returns 1 when it has one, 0 when not, -1 after
 * a diagnostic (a marker that cannot be read). */
int wfl_drop_marker_load(const char *job_dir, struct wf_load_opts *opts, char **path,
                         struct diag_list *dl);

/* ---- workflow_bundled.c ---- */
/* A valid bundled workflow name: [a-z0-9-]+. */
bool wfl_is_bundled_name(const char *name);
/* " (did you mean 'x'?)" or " (bundled: a, b)" for an unknown bundled workflow `name`. */
void wfl_add_bundled_names(const char *name, struct buf *b);

/* ---- workflow_value.c: typed values, with a diagnostic on failure ---- */
void wfl_error(struct wf_loader *L, const struct ydoc_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A scalar's text; NULL after a diagnostic for null, a list or a mapping. */
const char *wfl_string(struct wf_loader *L, const struct ydoc_node *n, const char *key);
/* A mapping; false after a diagnostic. */
bool wfl_mapping(struct wf_loader *L, const struct ydoc_node *n, const char *key);
bool wfl_int(struct wf_loader *L, const struct ydoc_node *n, const char *key, long long lo,
             long long hi, long long *out);
bool wfl_number(struct wf_loader *L, const struct ydoc_node *n, const char *key, double lo,
                double hi, bool lo_open, double *out);
/* true or false (YAML 1.1 spellings); false after a diagnostic. */
bool wfl_bool(struct wf_loader *L, const struct ydoc_node *n, const char *key, bool *out);
bool wfl_duration(struct wf_loader *L, const struct ydoc_node *n, const char *key, int64_t *out_ms);
bool wfl_model_id(struct wf_loader *L, const struct ydoc_node *n, const char *model);
bool wfl_voice(struct wf_loader *L, const struct ydoc_node *n, const char *voice);
/* thinking (MINIMAL, LOW, MEDIUM, HIGH; any case) and service_tier (flex, standard, priority):
 * the value as sent (a copy), or NULL after a diagnostic. */
char *wfl_thinking(struct wf_loader *L, const struct ydoc_node *n);
char *wfl_service_tier(struct wf_loader *L, const struct ydoc_node *n);
/* [a-z][a-z0-9_-]* (lower_only) or [A-Za-z_][A-Za-z0-9_-]* */
bool wfl_is_name(const char *s, bool lower_only);
/* The closest of `words` to `s` when close enough to be a likely typo, else NULL. */
const char *wfl_suggest(const char *s, const char *const *words, size_t n);
/* " (did you mean 'x'?)" or "" for a message. */
void wfl_add_suggestion(struct buf *b, const char *s, const char *const *words, size_t n);
/* Why a relative path is unsafe ("is absolute", ...), or NULL; "\x01" stands for a value. */
const char *wfl_path_problem(const char *path);
/* The gemflow file or directory of the job that `path` would be or be inside
 * (progress.jsonl, manifest.json, workflow.yaml, report.html, .gemflow), or NULL. */
const char *wfl_reserved_name(const char *path);
/* "a, b, c" into `b`. */
void wfl_add_list(struct buf *b, const char *const *words, size_t n);
/* Unknown-key diagnostic for key `k` (with a suggestion or the list of `known`). */
void wfl_check_keys_one(struct wf_loader *L, const struct ydoc_node *k, const char *const *known,
                        size_t n, const char *where);
/* Unknown-key diagnostics for every key of `map` not in `known`. */
void wfl_check_keys(struct wf_loader *L, const struct ydoc_node *map, const char *const *known,
                    size_t n, const char *where);

/* ---- workflow_set.c ---- */
/* Apply a `set:` mapping of a `use` document to L->doc. */
void wfl_apply_set_map(struct wf_loader *L, const struct ydoc_node *set);
/* Apply "--set K=V" arguments. */
void wfl_apply_cli_sets(struct wf_loader *L, const char *const *sets, size_t n);

/* ---- workflow_stage.c ---- */
/* Every key a stage of some kind takes (the kinds' own keys included). */
const char *const *wfl_stage_keys(size_t *n);
bool wfl_stage_key_known(const char *key);
void wfl_parse_stages(struct wf_loader *L, const struct ydoc_node *stages);
/* Compile the template of `key`: inline text, or (may_be_file) a prompt file next to the file
 * that holds the value. NULL after diagnostics. */
struct tmpl *wfl_template_field(struct wf_loader *L, const struct ydoc_node *n, const char *key,
                                bool may_be_file);
/* A string that must be one of `words` (a copy), or NULL after a diagnostic. */
char *wfl_choice_field(struct wf_loader *L, const struct ydoc_node *n, const char *key,
                       const char *what, const char *const *words, size_t count);
/* "STAGE.path.to.list" of `key` (foreach, scenes): its text and the segments after STAGE. */
bool wfl_array_path(struct wf_loader *L, const struct ydoc_node *n, const char *key, char **text,
                    char ***segs, size_t *n_segs);

/* ---- workflow_refs.c: `references:`, job files sent as inline media ---- */
/* A path template, a mapping {each: LIST, path: TEMPLATE}, or a list of these, into s->refs. */
void wfl_references_field(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                          const struct ydoc_node *n);

/* ---- workflow_check.c ---- */
/* Resolve foreach and needs, check template names against inputs, stages and schemas, compute
 * dependencies, reject cycles and bad outputs, and fill wf->order. */
void wfl_check(struct wf_loader *L);

#endif
