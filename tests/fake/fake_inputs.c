/* fake_inputs.c: the inline media of a generateContent request (reference images beside the
 * prompt, and the other inputs a text model reads): field names, base64, the MIME types each
 * model kind takes, what the bytes really are, and the per-model image count. Each part read
 * is kept for the request log ({mime, bytes, sha256, format}) and mixed into a hash that seeds
 * the generated image. Limits, wordings and their sources: README.md, "Inline media inputs". */
#include "fake.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GCR "* GenerateContentRequest."

/* The image types of the image-understanding guide ("Supported image formats"), which the
 * image-generation guide's reference images are sent as. */
static const char *const image_mimes[] = {"image/png",  "image/jpeg", "image/webp",
                                          "image/heic", "image/heif", NULL};
/* What a text model also reads inline: documents, audio, video and text (file-input-methods,
 * audio and video understanding guides). */
static const char *const other_mimes[] = {"application/pdf", "application/json",
                                          "text/plain",      "text/html",
                                          "text/css",        "text/csv",
                                          "text/xml",        "text/rtf",
                                          "text/javascript", "audio/wav",
                                          "audio/mp3",       "audio/mpeg",
                                          "audio/aiff",      "audio/aac",
                                          "audio/ogg",       "audio/flac",
                                          "video/mp4",       "video/mpeg",
                                          "video/mov",       "video/avi",
                                          "video/x-flv",     "video/mpg",
                                          "video/webm",      "video/wmv",
                                          "video/3gpp",      NULL};

static const char *const blob_fields[] = {"data", "mimeType", "displayName", NULL};

void fk_inputs_check_names(const cJSON *part, const char *at, cJSON *viol)
{
    const cJSON *inl = fk_get(part, "inlineData");
    if (!inl)
        return;
    char *iat = fk_printf("%s.inline_data", at);
    if (!cJSON_IsObject(inl)) {
        fk_invalid_value(viol, iat, "type.googleapis.com/google.ai.generativelanguage.v1beta.Blob",
                         inl);
    } else {
        fk_check_fields(inl, blob_fields, iat, viol);
        static const char *const strings[] = {"data", "mimeType", "displayName", NULL};
        for (int k = 0; strings[k]; k++) {
            const cJSON *v = fk_get(inl, strings[k]);
            if (!v || cJSON_IsString(v))
                continue;
            char *snake = fk_camel_to_snake(strings[k]);
            char *fat = fk_printf("%s.%s", iat, snake);
            fk_invalid_value(viol, fat, k == 0 ? "TYPE_BYTES" : "TYPE_STRING", v);
            free(fat);
            free(snake);
        }
    }
    free(iat);
}

/* ---- base64 (proto3 JSON bytes: the standard or the URL-safe alphabet, padding optional) ---- */

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decode `s` into a new buffer (caller frees); NULL when it is not base64. */
static unsigned char *b64_decode(const char *s, size_t *len)
{
    size_t n = 0, pad = 0, cap = strlen(s) / 4 * 3 + 3;
    unsigned char *out = fk_malloc(cap);
    uint32_t acc = 0;
    int bits = 0;
    *len = 0;
    for (; *s; s++) {
        if (isspace((unsigned char)*s))
            continue;
        if (*s == '=') {
            pad++;
            continue;
        }
        int v = b64_value(*s);
        if (v < 0 || pad) {
            free(out);
            return NULL;
        }
        n++;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[(*len)++] = (unsigned char)(acc >> bits);
        }
    }
    if (pad > 2 || n % 4 == 1 || (pad && (n + pad) % 4 != 0)) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- what the bytes are ---- */

/* "png", "jpeg", "webp", "heif" or "other", from the first bytes. */
static const char *sniff(const unsigned char *p, size_t n)
{
    static const char *const heif_brands[] = {"heic", "heix", "hevc", "hevx", "heim",
                                              "heis", "mif1", "msf1", NULL};
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "png";
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return "jpeg";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "webp";
    for (int i = 0; n >= 12 && memcmp(p + 4, "ftyp", 4) == 0 && heif_brands[i]; i++)
        if (memcmp(p + 8, heif_brands[i], 4) == 0)
            return "heif";
    return "other";
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A JPEG whose markers lead to a frame header with a size before the scan starts. */
static bool jpeg_has_frame(const unsigned char *p, size_t n)
{
    size_t i = 2;
    while (i + 4 <= n) {
        if (p[i] != 0xff)
            return false;
        unsigned char m = p[i + 1];
        if (m == 0xff) { /* fill byte */
            i++;
            continue;
        }
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) { /* standalone markers */
            i += 2;
            continue;
        }
        if (m == 0xd9 || m == 0xda) /* end of image, or the scan before any frame */
            return false;
        size_t seg = (size_t)p[i + 2] << 8 | p[i + 3];
        bool sof = m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
        if (sof)
            return seg >= 8 && i + 9 <= n && (p[i + 5] << 8 | p[i + 6]) > 0 &&
                   (p[i + 7] << 8 | p[i + 8]) > 0;
        i += 2 + seg;
    }
    return false;
}

/* Whether an image of the sniffed format has the headers a decoder needs (our stand-in for
 * "the model could decode it"; the pixels themselves are not decoded). */
static bool image_headers_ok(const char *format, const unsigned char *p, size_t n)
{
    if (strcmp(format, "png") == 0)
        return n >= 24 && memcmp(p + 12, "IHDR", 4) == 0 && be32(p + 16) > 0 && be32(p + 20) > 0;
    if (strcmp(format, "jpeg") == 0)
        return jpeg_has_frame(p, n);
    if (strcmp(format, "webp") == 0)
        return n >= 16 && (memcmp(p + 12, "VP8 ", 4) == 0 || memcmp(p + 12, "VP8L", 4) == 0 ||
                           memcmp(p + 12, "VP8X", 4) == 0);
    return strcmp(format, "heif") == 0; /* HEIF: not looked into */
}

/* The sniffed format a declared image type stands for. */
static const char *declared_format(const char *mime)
{
    if (fk_streq_ci(mime, "image/png"))
        return "png";
    if (fk_streq_ci(mime, "image/jpeg"))
        return "jpeg";
    if (fk_streq_ci(mime, "image/webp"))
        return "webp";
    return "heif";
}

static bool listed(const char *mime, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (fk_streq_ci(mime, list[i]))
            return true;
    return false;
}

/* ---- checks ---- */

/* The most input images a model takes in one request. */
static int max_images(const struct fk_model *m)
{
    switch (m->kind) {
    case FK_KIND_IMAGE: /* image-generation guide: Gemini 3 image models mix up to 14 */
        return m->traits & FK_T_IMG_25 ? 3 : 14;
    case FK_KIND_TEXT: /* image-understanding guide: 3,600 image files per request */
        return 3600;
    default:
        return 0;
    }
}

static bool unable(struct fk_reply *err)
{
    return fk_fail(err, fk_strdup("Unable to process input image. Please retry or report in "
                                  "https://developers.generativeai.google/guide/troubleshooting"));
}

/* The log entry of one part: {mime, bytes, sha256, format}. */
static void keep_entry(struct fk_gen *g, const char *mime, const unsigned char *bytes, size_t len,
                       const char *format)
{
    char sha[65];
    fk_sha256_hex(bytes, len, sha);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mime", mime);
    cJSON_AddNumberToObject(o, "bytes", (double)len);
    cJSON_AddStringToObject(o, "sha256", sha);
    cJSON_AddStringToObject(o, "format", format);
    if (!g->inputs)
        g->inputs = cJSON_CreateArray();
    cJSON_AddItemToArray(g->inputs, o);
    g->inputs_hash = fk_mix3(g->inputs_hash ? g->inputs_hash : 0x696e707574ULL,
                             fk_hash(bytes, len, 0x7265), (uint64_t)len);
}

/* The type the model takes, else its 400. */
static bool mime_taken(const struct fk_model *m, const char *mime, struct fk_reply *err)
{
    if (m->kind == FK_KIND_SPEECH) /* text in, audio out only (gemini-api.md §3) */
        return fk_fail(err, fk_printf("Unsupported MIME type: %s. models/%s accepts text input "
                                      "only.",
                                      mime, m->name));
    if (listed(mime, image_mimes) || (m->kind == FK_KIND_TEXT && listed(mime, other_mimes)))
        return true;
    return fk_fail(err, fk_printf("Unsupported MIME type: %s", mime));
}

bool fk_inputs_check_part(const struct fk_model *m, const cJSON *part, int i, int j, bool strict,
                          struct fk_gen *g, struct fk_reply *err)
{
    const cJSON *inl = fk_get(part, "inlineData");
    const char *data = fk_get_str(inl, "data");
    if (!data)
        return true;
    size_t len;
    unsigned char *bytes = b64_decode(data, &len);
    if (!bytes) {
        size_t n = strlen(data);
        return fk_fail(err, fk_printf("Invalid value at 'contents[%d].parts[%d].inline_data.data' "
                                      "(TYPE_BYTES), Base64 decoding failed for \"%.*s%s\"",
                                      i, j, (int)(n > 64 ? 64 : n), data, n > 64 ? "..." : ""));
    }
    const char *mime = fk_get_str(inl, "mimeType");
    mime = mime ? mime : "";
    const char *format = sniff(bytes, len);
    keep_entry(g, mime, bytes, len, format); /* also when refused: the log shows what came */
    bool decodable = image_headers_ok(format, bytes, len);
    free(bytes);
    if (!mime_taken(m, mime, err))
        return false;
    if (!listed(mime, image_mimes))
        return true;
    if (!decodable || (strict && strcmp(format, declared_format(mime)) != 0))
        return unable(err);
    g->n_images++;
    return true;
}

bool fk_inputs_check_count(const struct fk_model *m, const struct fk_gen *g, struct fk_reply *err)
{
    int max = max_images(m);
    if (g->n_images <= max)
        return true;
    return fk_fail(err, fk_printf(GCR "contents: models/%s takes at most %d input images per "
                                      "request; this request has %d.\n",
                                  m->name, max, g->n_images));
}
