/* gf-verify: check a job directory's artifacts against its manifest, independently of gemflow's
 * own code: every manifest entry exists with the recorded size and sha256, every PNG decodes
 * fully (libpng), every WAV reads to its last frame (libsndfile), every JSON parses (cJSON).
 * Also checks that every line of progress.jsonl is JSON except at most a torn last line.
 * Prints "artifacts=N bad=M log_lines=L torn=T" and exits 1 when anything is wrong. */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <png.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int png_ok(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    png_bytep row = NULL;
    if (setjmp(png_jmpbuf(p))) {
        free(row);
        png_destroy_read_struct(&p, &info, NULL);
        fclose(f);
        return 0;
    }
    png_init_io(p, f);
    png_read_info(p, info);
    png_uint_32 h = png_get_image_height(p, info);
    row = malloc(png_get_rowbytes(p, info));
    for (png_uint_32 y = 0; y < h; y++)
        png_read_row(p, row, NULL);
    png_read_end(p, NULL);
    free(row);
    png_destroy_read_struct(&p, &info, NULL);
    fclose(f);
    return h > 0;
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
        if (ok && ext && strcmp(ext, ".png") == 0)
            ok = png_ok(path);
        else if (ok && ext && strcmp(ext, ".wav") == 0)
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
