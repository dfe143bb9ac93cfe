/* workflow: loading a version-1 workflow (YAML, via libyaml) into a checked, immutable plan.
 *
 * Calling sequence:
 *   struct workflow wf; struct diag_list dl = DIAG_LIST_INIT;
 *   struct wf_load_opts opts = {.sets = ..., .n_sets = ...};
 *   if (workflow_load_job(&wf, job_dir, &opts, &dl) < 0) { print every diag; exit 2; }
 *   ... use wf ...
 *   workflow_release(&wf);
 *
 * Every problem found is a diagnostic "file:line:column: message"; loading goes on after an
 * error where it can, so `gemflow validate` reports them all. On failure `wf` holds nothing that
 * needs releasing (it is released internally). */
#ifndef GF_WORKFLOW_H
#define GF_WORKFLOW_H

#include "err.h"
#include "template.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A place in a workflow or prompt file; `file` is owned by the workflow (see files[]). */
struct wf_pos {
    const char *file;
    int line, col;
};

struct stage_kind; /* stages/stage.h: what a kind does; the kind's module owns it */

/* A list a stage's one item goes over element by element, its per-element templates seeing
 * each as {{item}} ("STAGE.path.to.array", as foreach): a kind's own (video: `scenes`). The
 * loader resolves `stage` (the index of STAGE in stages[]); `segs` is the path after it. */
struct stage_elements {
    char *text;
    size_t stage;
    char **segs;
    size_t n_segs;
};

struct stage_def {
    char *name; /* [a-z0-9_-]+, unique */
    struct wf_pos pos;
    const struct stage_kind *kind; /* NULL only in a workflow that failed to load */
    void *k;     /* the kind's own settings: its parse makes them, its release frees them */
    char *model; /* the model this stage calls: its own `model:` or defaults.model; never NULL
                    once loaded (video: "ffmpeg", the program that does the work) */
    struct tmpl *output; /* required; rendered with TMPL_PATH */

    /* foreach: "STAGE.path.to.array" over a JSON stage's output; NULL when the stage has one
     * item. foreach_stage is the index of STAGE in stages[]; foreach_segs the path after it. */
    char *foreach;
    size_t foreach_stage;
    char **foreach_segs;
    size_t n_foreach_segs;
    int foreach_max; /* the list's maxItems in STAGE's schema: the most items it can have (plan's
                        upper estimate before the list exists); 0 when the schema sets none */
    struct wf_pos foreach_pos;

    /* references (KIND_KEYS_REFS): job files sent with each request as inline media parts,
     * in order (workflow_refs.c parses them, refs.c reads them) */
    struct wf_ref {
        struct tmpl *path; /* the file, relative to the job directory; {{each}} is the element
                              of `each` when given */
        struct tmpl *each; /* "{{LIST}}": one file per element of the list; NULL = one file */
    } * refs;
    size_t n_refs;

    /* The settings of every kind with an API model (KIND_KEYS_MODEL, KIND_KEYS_THINKING): */
    char *thinking;     /* thinkingConfig.thinkingLevel (MINIMAL, LOW, MEDIUM, HIGH); NULL = not
                           sent */
    char *service_tier; /* serviceTier (flex, standard, priority); NULL = not sent. Not part of
                           the request key: the same content at another price */
    bool strict_model;  /* a reply served by another model fails the item (not retried) */
    int paid_retries;   /* retries of a 200 reply whose content is unusable; default 1 */
    bool has_temperature;
    double temperature;
    bool has_top_p, has_top_k;
    double top_p;
    int top_k;
    int64_t timeout_ms; /* per attempt; defaults.timeout, else 120 s (flex: 20 min) */
    bool timeout_set;   /* the timeout was given (stage or defaults), not a default */
    int retries;        /* retries after the first attempt; defaults.retries, else 5 */

    size_t *deps; /* indices of the stages this one depends on (templates, foreach, needs) */
    size_t n_deps;
};

struct wf_rpm {
    char *model;
    double rpm;
};

struct workflow {
    char *name;
    char *path;     /* the workflow file that defines the stages (bundled one for `use:`) */
    char *dir;      /* its directory: prompt and schema files are relative to it */
    char *job_path; /* the job's own workflow.yaml when it exists, else NULL */
    char *endpoint; /* workflow `endpoint:`; NULL when absent */

    struct wf_input {
        char *name; /* {{name}} */
        char *path; /* relative to the job directory, checked to stay inside it */
    } * inputs;
    size_t n_inputs;

    struct stage_def *stages; /* in file order; stages with `enabled: false` are not here */
    size_t n_stages;
    /* The stages turned off with `enabled: false` (in the workflow, its `set:` or --set): checked
     * like any stage, then left out of `stages`, so nothing runs, waits for or reports them.
     * References to their files are dropped from the stages that sent them (`note` says which,
     * e.g. "images sends none of its files as references"); any other use of one is a load error
     * (workflow_check.c, workflow_outputs.c). */
    struct wf_off {
        char *name;
        char *note; /* NULL when no reference was dropped */
    } * off;
    size_t n_off;
    size_t *order; /* topological order: every stage after the stages it depends on */

    bool model_check; /* check each model with models.get before the first paid call
                         (defaults.model_check, default true) */
    int concurrency;  /* limits.concurrency, default 8 */
    double max_cost;  /* limits.max_cost: USD the job may cost over all its runs, or --max-cost
                         when smaller (job_open); 0 = none */
    struct wf_rpm *rpm;
    size_t n_rpm;

    struct diag_list warnings; /* "file:line:column: warning: ..." that do not stop a load */

    /* The prompt and schema files the loader read: each one's directory and its name there.
     * Where the directory is the job's, no output may be written over one (expand.c). */
    struct wf_read {
        char *dir, *rel;
    } * reads;
    size_t n_reads;

    char **files; /* interned file names that wf_pos.file and diagnostics point to */
    size_t n_files, cap_files;
};

/* How far a job's own workflow.yaml is trusted. Whoever runs gemflow trusts what they wrote;
 * `gemflow watch` loads the workflow a drop brought with less (--allow-job-workflows): such a
 * file never chooses the endpoint, and with WF_TRUST_SET it only changes content fields of a
 * workflow the operator chose (the table is in workflow_trust.c). */
enum wf_trust {
    WF_TRUST_ALL,  /* written by the operator: every key (the default) */
    WF_TRUST_FULL, /* a dropped job, `full`: every key but `endpoint` */
    WF_TRUST_SET,  /* a dropped job, `set`: only `use:` plus `set:` of content fields */
    WF_TRUST_NONE, /* a dropped job, `none`: it may not bring a workflow at all */
};

struct wf_load_opts {
    /* --set K=V overrides, applied after the workflow's own `set:` */
    const char *const *sets;
    size_t n_sets;
    /* Use this workflow file instead of JOB/workflow.yaml / the bundled default. Below
     * WF_TRUST_ALL it is the operator's workflow instead: a job without its own workflow.yaml
     * runs it, and a dropped `use:` naming it (by its name) starts from it. */
    const char *workflow_path;
    /* --tier: the service tier of every API stage (wins over the workflow); NULL = as written */
    const char *service_tier;
    /* How far the job's own workflow.yaml (workflow_load_job), or the file given to
     * workflow_load_file, is trusted; --set and workflow_path are always the operator's. */
    enum wf_trust trust;
};

/* A job made from a drop carries how the watcher trusted it, so that every command (run, plan,
 * status, validate) loads it the same way: JSON {"allow": "set", "workflow": PATH|null}, written
 * by the watcher into its copy of the drop (a drop cannot bring its own). */
#define WORKFLOW_DROP_MARKER ".gemflow/drop.json"

/* "all", "full", "set", "none" (the --allow-job-workflows words; "all" is no drop). */
const char *workflow_trust_name(enum wf_trust t);
/* Parse an --allow-job-workflows word (full, set, none); -1 for anything else. */
int workflow_trust_parse(const char *s, enum wf_trust *out);
/* The text of JOB/WORKFLOW_DROP_MARKER for a drop trusted as `t` whose watcher runs
 * `workflow` (NULL: the bundled one). Caller frees. */
char *workflow_drop_marker(enum wf_trust t, const char *workflow);

/* Load the workflow of a job directory: `JOB/workflow.yaml` if present, else the bundled
 * `script-to-media`, or opts->workflow_path (with WF_TRUST_ALL it wins over JOB/workflow.yaml;
 * below, JOB/workflow.yaml is loaded as a drop's when present). A job made from a drop
 * (WORKFLOW_DROP_MARKER) is loaded as its watcher did unless opts->trust says otherwise.
 * Returns 0, or -1 with diagnostics in `dl`. */
int workflow_load_job(struct workflow *wf, const char *job_dir, const struct wf_load_opts *opts,
                      struct diag_list *dl);
/* Load one workflow file (a whole workflow, or `use:` + `set:`). */
int workflow_load_file(struct workflow *wf, const char *path, const struct wf_load_opts *opts,
                       struct diag_list *dl);
void workflow_release(struct workflow *wf);

/* Index of a stage by name, or -1 (also for a disabled stage). */
int workflow_stage_index(const struct workflow *wf, const char *name);
/* Is `name` a stage turned off with `enabled: false`? */
bool workflow_stage_is_off(const struct workflow *wf, const char *name);
/* The rpm limit configured for `model`, or 0 when none. */
double workflow_rpm(const struct workflow *wf, const char *model);

/* Find a bundled workflow by name ("script-to-media") into `path`. Search order:
 * $GEMFLOW_WORKFLOWS, <dir of the executable>/../workflows (build tree),
 * <dir of the executable>/../share/gemflow/workflows (installed), the source tree.
 * Returns 0 or -1 when not found. */
int workflow_find_bundled(const char *name, struct buf *path);

#endif
