/* workflow_order: the stage graph once its uses are checked: disabled stages taken out (their
 * notes kept in wf->off), dependency cycles reported, and the topological order filled in. */
#include "util.h"
#include "workflow_check_int.h"
#include "../stages/stage.h"

#include <string.h>

/* Depth-first search for a path of dependencies from `from` back to `target`. */
static bool find_cycle(const struct workflow *wf, size_t from, size_t target, bool *seen,
                       size_t *path, size_t *len)
{
    const struct stage_def *s = &wf->stages[from];
    for (size_t k = 0; k < s->n_deps; k++) {
        size_t d = s->deps[k];
        if (d == target) {
            path[(*len)++] = d;
            return true;
        }
        if (seen[d])
            continue;
        seen[d] = true;
        path[(*len)++] = d;
        if (find_cycle(wf, d, target, seen, path, len))
            return true;
        (*len)--;
    }
    return false;
}

/* Report every cycle once (at its first stage in file order), then fill wf->order. */
void wfl_check_cycles_and_order(struct wf_loader *L)
{
    struct workflow *wf = L->wf;
    size_t n = wf->n_stages, len;
    bool *in_cycle = xcalloc(n, sizeof *in_cycle), *seen = xcalloc(n, sizeof *seen);
    size_t *path = xcalloc(n + 1, sizeof *path);
    for (size_t i = 0; i < n; i++) {
        if (in_cycle[i])
            continue;
        memset(seen, 0, n * sizeof *seen);
        path[0] = i;
        len = 1;
        if (!find_cycle(wf, i, i, seen, path, &len))
            continue;
        struct buf b = BUF_INIT;
        for (size_t k = 0; k < len; k++) {
            buf_addf(&b, "%s%s", k ? " -> " : "", wf->stages[path[k]].name);
            in_cycle[path[k]] = true;
        }
        const struct stage_def *s = &wf->stages[i];
        diag_add(L->dl, s->pos.file, s->pos.line, s->pos.col,
                 "dependency cycle: %s (each stage needs the next)", b.data);
        buf_release(&b);
    }
    /* Stable topological order: always the first stage in file order whose deps are placed. */
    wf->order = xcalloc(n ? n : 1, sizeof *wf->order);
    bool *placed = in_cycle;
    memset(placed, 0, n * sizeof *placed);
    for (size_t count = 0; count < n;) {
        size_t i;
        for (i = 0; i < n; i++) {
            bool ready = !placed[i];
            for (size_t k = 0; ready && k < wf->stages[i].n_deps; k++)
                ready = placed[wf->stages[i].deps[k]];
            if (ready)
                break;
        }
        if (i == n)
            break; /* a cycle, reported above */
        placed[i] = true;
        wf->order[count++] = i;
    }
    free(in_cycle);
    free(seen);
    free(path);
}

/* What became of disabled stage j's files: "images sends none of them as references" (or NULL
 * when no stage referred to them). */
static char *off_note(const struct wf_loader *L, size_t j, const bool *dropped)
{
    size_t n = L->wf->n_stages, count = 0;
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < n; i++)
        if (dropped[i * n + j])
            buf_addf(&b, "%s%s", count++ ? ", " : "", L->wf->stages[i].name);
    char *note = count ? xasprintf("%s send%s none of its files as references", b.data,
                                   count == 1 ? "s" : "")
                       : NULL;
    buf_release(&b);
    return note;
}

/* Take the disabled stages out of wf->stages (and L->info), keeping their names and notes in
 * wf->off, and renumber what points at stages. Every use of one was an error or a dropped
 * reference, so no remaining stage depends on one. */
void wfl_remove_disabled(struct wf_loader *L, const bool *dropped)
{
    struct workflow *wf = L->wf;
    size_t n = wf->n_stages, kept = 0, cap = 0;
    size_t *map = xcalloc(n, sizeof *map);
    for (size_t i = 0; i < n; i++) {
        map[i] = L->info[i].disabled ? SIZE_MAX : kept++;
        if (!L->info[i].disabled)
            continue;
        struct wf_off *off = VEC_PUSH(wf->off, wf->n_off, cap);
        off->name = xstrdup(wf->stages[i].name);
        off->note = off_note(L, i, dropped);
    }
    if (kept == n) {
        free(map);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (map[i] == SIZE_MAX) {
            wfl_stage_release(&wf->stages[i]);
            free(L->info[i].needs);
            continue;
        }
        struct stage_def *s = &wf->stages[i];
        size_t nd = 0;
        for (size_t k = 0; k < s->n_deps; k++)
            if (map[s->deps[k]] != SIZE_MAX)
                s->deps[nd++] = map[s->deps[k]];
        s->n_deps = nd;
        if (s->foreach && s->foreach_stage < n && map[s->foreach_stage] != SIZE_MAX)
            s->foreach_stage = map[s->foreach_stage];
        struct stage_elements *el = wfl_elements_of(s);
        if (el && el->stage < n && map[el->stage] != SIZE_MAX)
            el->stage = map[el->stage];
        wf->stages[map[i]] = *s;
        L->info[map[i]] = L->info[i];
    }
    wf->n_stages = kept;
    free(map);
    if (!kept)
        wfl_error(L, L->doc, "every stage is disabled (enabled: false): nothing to run");
}
