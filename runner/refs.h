/* refs: the job files a stage's `references:` name, sent with each request as inline media.
 *
 * When an item is made (expand), each reference is rendered, read from beneath the job
 * directory, sniffed (PNG, JPEG, WebP: the bytes decide, not the name) and hashed; the request
 * holds a placeholder "gemflow-ref:sha256:HEX:PATH" where the part's base64 data goes. So the
 * request key covers every reference's bytes (editing a portrait redoes exactly the items that
 * sent it), `plan` can name the reference that changed, and call records stay small. When the
 * executor sends the request, refs_inline puts each file's base64 in place of its placeholder,
 * after checking that the bytes still hash to what the key says. */
#ifndef GF_REFS_H
#define GF_REFS_H

#include "expand_int.h"
#include "../stages/stage.h"

#define REFS_PREFIX "gemflow-ref:sha256:"
/* Inline data travels in the request, which takes at most 20 MB in all (gemini-api.md,
 * "Inline data"); base64 makes 3 bytes 4. Checked before any call. */
#define REFS_REQUEST_MAX (20u * 1000u * 1000u)
/* Files one request may send (the image models take up to 14 reference images: image-
 * generation guide, 2026-12). */
#define REFS_MAX_FILES 14

/* The references of one item, in order. */
struct item_refs {
    struct stage_media *media;
    size_t n;
};

/* Render and read the references of stage `def` for the item of `rc`. -1 with *why (caller
 * frees) naming the file when one cannot be sent (missing, not an image, too large). */
int refs_render(const struct stage_def *def, struct render_ctx *rc, struct item_refs *out,
                char **why);
void refs_release(struct item_refs *r);

/* Does this request body hold placeholders? */
bool refs_in(const char *body);
/* How many placeholders (references sent) the request body holds. */
size_t refs_count(const char *body);
/* The body as sent: every placeholder replaced by the base64 of its file (read beneath
 * `job_dir`, checked against its hash). A new string in *out; -1 with err when a file is gone
 * or changed since the item was made. */
int refs_inline(const char *job_dir, const char *body, size_t len, char **out, size_t *out_len,
                struct gf_err *err);

/* Parse a placeholder: its hash and path (pointers into `s`); false when `s` is none. */
bool refs_parse(const char *s, const char **sha256, size_t *sha_len, const char **path);

#endif
