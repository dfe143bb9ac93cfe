/* gf-verify: check a job directory's artifacts against its manifest, independently of gemflow's
 * own code: every manifest entry exists with the recorded size and sha256; every image (.png,
 * .jpg, .jpeg, .webp) is in the format its extension names, decodes fully with the decoder its
 * bytes call for (libpng; libjpeg, any warning counting as corruption; libwebp) and has the
 * width and height its manifest media facts state; every WAV reads to its last frame
 * (libsndfile), every JSON parses (cJSON). Also checks that every line of progress.jsonl is JSON
 * except at most a torn last line.
 * Prints "artifacts=N bad=M log_lines=L torn=T" and exits 1 when anything is wrong. */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <png.h>
#include <setjmp.h>
#include <sndfile.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jpeglib.h>
#include <webp/decode.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    size_t r;
    while ((r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            b = realloc(b, (cap *= 2) + 1);
    }
    fclose(f);
    b[n] = '\0';
    *len = n;
    return b;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

enum image { NOT_IMAGE, PNG, JPEG, WEBP };
static const char *const image_names[] = {"not an image", "PNG", "JPEG", "WebP"};

static enum image image_by_ext(const char *ext)
{
    if (!ext)
        return NOT_IMAGE;
    if (strcasecmp(ext, ".png") == 0)
        return PNG;
    if (strcasecmp(ext, ".jpg") == 0 || strcasecmp(ext, ".jpeg") == 0)
        return JPEG;
    return strcasecmp(ext, ".webp") == 0 ? WEBP : NOT_IMAGE;
}

/* From the signatures: PNG's eight bytes, JPEG's SOI and a marker, RIFF....WEBP. */
static enum image image_by_bytes(const unsigned char *d, size_t n)
{
    if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return PNG;
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        return JPEG;
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
        return WEBP;
    return NOT_IMAGE;
}

/* Each decoder returns 1 when the image decodes to its end, with its size in *w, *h. */

/* What a decoder and its error path share: reached through a pointer, so nothing changed after
 * setjmp is a local of the function that called it (those are indeterminate after longjmp). */
struct decode {
    png_structp png;
    png_infop info;
    struct jpeg_decompress_struct jpeg;
    struct jpeg_error_mgr jerr; /* jpeg.err points here */
    jmp_buf jmp;
    unsigned char *row;
    unsigned w, h;
};

static int png_decode(struct decode *dc, FILE *f)
{
    if (setjmp(png_jmpbuf(dc->png)))
        return 0;
    png_init_io(dc->png, f);
    png_read_info(dc->png, dc->info);
    dc->w = png_get_image_width(dc->png, dc->info);
    dc->h = png_get_image_height(dc->png, dc->info);
    int passes = png_set_interlace_handling(dc->png);
    png_read_update_info(dc->png, dc->info);
    dc->row = malloc(png_get_rowbytes(dc->png, dc->info));
    for (int pass = 0; pass < passes; pass++)
        for (png_uint_32 y = 0; y < dc->h; y++)
            png_read_row(dc->png, dc->row, NULL);
    png_read_end(dc->png, NULL);
    return dc->h > 0;
}

static int png_ok(const char *path, unsigned *w, unsigned *h)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    struct decode dc = {0};
    dc.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    dc.info = png_create_info_struct(dc.png);
    int ok = png_decode(&dc, f);
    free(dc.row);
    png_destroy_read_struct(&dc.png, &dc.info, NULL);
    fclose(f);
    *w = dc.w;
    *h = dc.h;
    return ok;
}

static void jpeg_fail_exit(j_common_ptr cinfo)
{
    /* cinfo->err is &dc->jerr */
    struct decode *dc = (struct decode *)((char *)cinfo->err - offsetof(struct decode, jerr));
    longjmp(dc->jmp, 1);
}

static void jpeg_quiet(j_common_ptr cinfo)
{
}

static int jpeg_decode(struct decode *dc, const unsigned char *d, size_t n)
{
    if (setjmp(dc->jmp))
        return 0;
    jpeg_create_decompress(&dc->jpeg);
    jpeg_mem_src(&dc->jpeg, d, (unsigned long)n);
    jpeg_read_header(&dc->jpeg, TRUE);
    jpeg_start_decompress(&dc->jpeg);
    dc->row = malloc((size_t)dc->jpeg.output_width * (size_t)dc->jpeg.output_components);
    while (dc->jpeg.output_scanline < dc->jpeg.output_height)
        jpeg_read_scanlines(&dc->jpeg, &dc->row, 1);
    jpeg_finish_decompress(&dc->jpeg); /* up to EOI: a cut-off file warns "Premature end" */
    dc->w = dc->jpeg.image_width;
    dc->h = dc->jpeg.image_height;
    return dc->jerr.num_warnings == 0;
}

static int jpeg_ok(const unsigned char *d, size_t n, unsigned *w, unsigned *h)
{
    struct decode dc;
    memset(&dc, 0, sizeof dc);
    dc.jpeg.err = jpeg_std_error(&dc.jerr);
    dc.jerr.error_exit = jpeg_fail_exit; /* the default calls exit() */
    dc.jerr.output_message = jpeg_quiet; /* warnings are counted in num_warnings */
    int ok = jpeg_decode(&dc, d, n);
    free(dc.row);
    jpeg_destroy_decompress(&dc.jpeg);
    *w = dc.w;
    *h = dc.h;
    return ok;
}

static int webp_ok(const unsigned char *d, size_t n, unsigned *w, unsigned *h)
{
    int iw = 0, ih = 0;
    uint8_t *px = WebPDecodeRGBA(d, n, &iw, &ih);
    WebPFree(px);
    *w = (unsigned)iw;
    *h = (unsigned)ih;
    return px != NULL && iw > 0 && ih > 0;
}

/* An image artifact: its extension and its bytes agree, it decodes, and it has the size the
 * manifest's media facts give (when they give one). Prints what is wrong; 1 when all is well. */
static int image_ok(const char *rel, const char *path, const char *data, size_t len,
                    enum image by_ext, const cJSON *media)
{
    const unsigned char *d = (const unsigned char *)data;
    enum image by_bytes = image_by_bytes(d, len);
    if (by_bytes != by_ext) {
        printf("mislabelled %s: %s bytes\n", rel, image_names[by_bytes]);
        return 0;
    }
    unsigned w = 0, h = 0;
    int ok = by_bytes == PNG    ? png_ok(path, &w, &h)
             : by_bytes == JPEG ? jpeg_ok(d, len, &w, &h)
                                : webp_ok(d, len, &w, &h);
    if (!ok) {
        printf("corrupt %s: the %s does not decode\n", rel, image_names[by_bytes]);
        return 0;
    }
    const cJSON *mw = cJSON_GetObjectItem(media, "width"),
                *mh = cJSON_GetObjectItem(media, "height");
    if (cJSON_IsNumber(mw) && cJSON_IsNumber(mh) &&
        (mw->valuedouble != w || mh->valuedouble != h)) {
        printf("wrong size %s: the manifest says %gx%g, the image is %ux%u\n", rel, mw->valuedouble,
               mh->valuedouble, w, h);
        return 0;
    }
    return 1;
}

static int wav_ok(const char *path)
{
    SF_INFO si;
    memset(&si, 0, sizeof si);
    SNDFILE *s = sf_open(path, SFM_READ, &si);
    if (!s)
        return 0;
    short buf[4096];
    sf_count_t total = 0, n;
    while ((n = sf_read_short(s, buf, 4096)) > 0)
        total += n;
    sf_close(s);
    return si.frames > 0 && total == si.frames * si.channels;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gf-verify JOB_DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    char path[4096];
    int bad = 0, n = 0;
    size_t len;
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *m = slurp(path, &len);
    cJSON *root = m ? cJSON_Parse(m) : NULL;
    free(m);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "artifacts"))
    {
        const char *rel = cJSON_GetStringValue(cJSON_GetObjectItem(e, "path"));
        const char *sha = cJSON_GetStringValue(cJSON_GetObjectItem(e, "sha256"));
        double bytes = cJSON_GetNumberValue(cJSON_GetObjectItem(e, "bytes"));
        n++;
        if (!rel || !sha) {
            printf("bad entry %d\n", n);
            bad++;
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        char *data = slurp(path, &len);
        if (!data) {
            printf("missing %s\n", rel);
            bad++;
            continue;
        }
        char hex[65];
        sha256_hex(data, len, hex);
        const char *ext = strrchr(rel, '.');
        int ok = (double)len == bytes && strcmp(hex, sha) == 0;
        enum image img = image_by_ext(ext);
        if (ok && img != NOT_IMAGE) {
            if (!image_ok(rel, path, data, len, img, cJSON_GetObjectItem(e, "media"))) {
                bad++;
                free(data);
                continue;
            }
        } else if (ok && ext && strcmp(ext, ".wav") == 0)
            ok = wav_ok(path);
        else if (ok && ext && strcmp(ext, ".json") == 0) {
            cJSON *j = cJSON_ParseWithLength(data, len);
            ok = j != NULL;
            cJSON_Delete(j);
        }
        if (!ok) {
            printf("corrupt %s\n", rel);
            bad++;
        }
        free(data);
    }
    cJSON_Delete(root);
    /* progress.jsonl: every line JSON, except at most a torn (unterminated) last line */
    snprintf(path, sizeof path, "%s/progress.jsonl", dir);
    char *log = slurp(path, &len);
    int lines = 0, torn = 0;
    for (char *p = log; p && *p;) {
        char *nl = strchr(p, '\n');
        if (!nl) {
            torn = 1;
            break;
        }
        lines++;
        cJSON *j = cJSON_ParseWithLength(p, (size_t)(nl - p));
        if (!j) {
            printf("bad log line %d\n", lines);
            bad++;
        }
        cJSON_Delete(j);
        p = nl + 1;
    }
    free(log);
    printf("artifacts=%d bad=%d log_lines=%d torn=%d\n", n, bad, lines, torn);
    return bad ? 1 : 0;
}
